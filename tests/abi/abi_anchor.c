/* The plugin ABI as one exported function: every public struct of
 * plugin.h is reachable from its parameters (directly or through the
 * callbacks of the host table and the descriptor), so abidw records the
 * whole layout.  Compiled by abi_check.sh only, never linked into zinvol.
 * A struct that is added to plugin.h and reachable from none of these
 * gets a parameter here. */
#include <zinvol/plugin.h>

ZV_EXPORT void zv_abi_anchor(const zv_plugin_descriptor *d, const zv_host *h,
                             const zv_http_request *req, const zv_http_response *resp,
                             const zv_item *item, const zv_payload_spec *payload,
                             const zv_batch *batch, const zv_answer *answer,
                             const zv_delivery *delivery, const zv_send_result *result,
                             const zv_option *option, const zv_message_decl *message,
                             const zv_record *record);

void zv_abi_anchor(const zv_plugin_descriptor *d, const zv_host *h, const zv_http_request *req,
                   const zv_http_response *resp, const zv_item *item,
                   const zv_payload_spec *payload, const zv_batch *batch,
                   const zv_answer *answer, const zv_delivery *delivery,
                   const zv_send_result *result, const zv_option *option,
                   const zv_message_decl *message, const zv_record *record)
{
    (void)d, (void)h, (void)req, (void)resp, (void)item, (void)payload, (void)batch;
    (void)answer, (void)delivery, (void)result, (void)option, (void)message, (void)record;
}
