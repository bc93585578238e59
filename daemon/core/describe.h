/* zinvold --describe: every option of the core and the plugins. */
#ifndef ZV_DESCRIBE_H
#define ZV_DESCRIBE_H

#include <stdio.h>

/* plugin NULL: the core's keys, then every plugin in plugin_dir.  Otherwise
 * the plugin of that type ("http", "filedrop": a source and a transport)
 * or file name ("out_http").  markdown: the option tables only, as the
 * plugin READMEs carry them.  0, or -1 with the reason on stderr. */
int zv_describe(FILE *out, const char *plugin_dir, const char *plugin, int markdown);

#endif
