/*
 * Log lines from hostile input (issue 10): the BSN scrubber masks what is a
 * BSN and nothing else (D12), and outside text cannot forge log lines (D11).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zinvol/util.h>

#include "core/log.h"

static void scrubbed(const char *in, const char *want)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", in);
    zv_bsn_scrub(buf);
    ck_assert_str_eq(buf, want);
}

START_TEST(scrub_whole_tokens_only)
{
    /* A 9-digit run that passes the elfproef inside a hex hash or an id. */
    scrubbed("payload sha256 a3f999996708bc19 sent", "payload sha256 a3f999996708bc19 sent");
    scrubbed("event ev999996708 seen", "event ev999996708 seen");
    scrubbed("id 999996708x", "id 999996708x");
    scrubbed("10 digits 9999967080", "10 digits 9999967080");
    /* Still masked where it stands alone or between separators. */
    scrubbed("client 999996708 rejected", "client *****6708 rejected");
    scrubbed("key 999996708/2026001", "key *****6708/2026001");
    scrubbed("999996708", "*****6708");
    scrubbed("(999996708)", "(*****6708)");
    scrubbed("ref 123456789 invalid", "ref 123456789 invalid");
}
END_TEST

START_TEST(scrub_eight_digits_and_grouped)
{
    /* 012345672 passes; exports that keep BSNs as numbers write 12345672,
     * and the mapping takes that as a BSN. */
    scrubbed("bsn 12345672 unknown", "bsn ****5672 unknown");
    scrubbed("bsn 12345678 unknown", "bsn 12345678 unknown");
    scrubbed("written 9999.00.006 by hand", "written ****.*0.006 by hand");
    scrubbed("written 999 996 708 by hand", "written *** **6 708 by hand");
    scrubbed("written 999-996-708", "written ***-**6-708");
    scrubbed("written 9999 00 006.", "written **** *0 006.");
    /* Dates and longer dotted numbers are not BSNs. */
    scrubbed("start 2026-12-01", "start 2026-12-01");
    scrubbed("v 1.9999.00.006", "v 1.9999.00.006");
    scrubbed("ip 999.900.006.1", "ip 999.900.006.1");
    scrubbed("mixed 9999.00-006", "mixed 9999.00-006");
}
END_TEST

START_TEST(escape_control_characters)
{
    char out[64];
    const char in[] = "C1\n2026-12-01T00:00:00Z error [core] forged\r\t\x01\x7f";
    zv_escape_ctrl(in, sizeof(in) - 1, out, sizeof(out));
    ck_assert_str_eq(out, "C1\\n2026-12-01T00:00:00Z error [core] forged\\r\\t\\x01\\x7f");
    /* NUL inside the given length is written too, never cuts the text. */
    zv_escape_ctrl("a\0b", 3, out, sizeof(out));
    ck_assert_str_eq(out, "a\\x00b");
    /* Truncation keeps whole escapes. */
    char small[6];
    zv_escape_ctrl("abcd\n", 5, small, sizeof(small));
    ck_assert_str_eq(small, "abcd");
}
END_TEST

/* zv_log writes exactly one line per call, whatever the arguments hold. */
START_TEST(log_one_line_per_event)
{
    char path[] = "/tmp/zv-hostile-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    zv_log_set_journal(0);
    zv_log(ZV_LOG_WARN, "webhook", "record %s rejected",
           "C1\n2026-12-01T00:00:00Z error [core] audit chain broken");
    zv_log(ZV_LOG_WARN, "webhook", "record %s rejected", "999996708\rX");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int lines = 0;
    while (fgets(line, sizeof(line), f)) {
        lines++;
        ck_assert_ptr_nonnull(strstr(line, "[webhook] record "));
        ck_assert_ptr_null(strchr(line, '\r'));
    }
    fclose(f);
    unlink(path);
    close(fd);
    ck_assert_int_eq(lines, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile_log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, scrub_whole_tokens_only);
    tcase_add_test(tc, scrub_eight_digits_and_grouped);
    tcase_add_test(tc, escape_control_characters);
    tcase_add_test(tc, log_one_line_per_event);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
