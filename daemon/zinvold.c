/* zinvold: placeholder main until the core lands (replaced in the next commits). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "zinvold: not built yet\n");
    return 1;
}
