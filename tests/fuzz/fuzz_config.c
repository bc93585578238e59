/* Config loader: a hand-edited file may hold anything; loading must report
 * it as "file: path: reason" and never crash (D15: {"organisation": [1]}).
 * The loader reads a file, so each input is written to one memfd. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("zv-fuzz-config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    zv_errors errs;
    zv_errors_init(&errs);
    zv_config *cfg = zv_config_load(path, NULL, &errs);
    if (cfg && errs.n == 0) {
        /* a config without errors must have what the runtime reads */
        if (!cfg->state_dir || !cfg->store_path)
            abort();
    }
    zv_config_free(cfg);
    zv_errors_free(&errs);
    return 0;
}
