#include <stdio.h>
int main(void)
{
    fprintf(stderr, "zinvolctl: not built yet\n");
    return 1;
}
