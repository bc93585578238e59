/* Dates, durations and clocks. */
#include <zinvol/util.h>

#include <ctype.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != 10 || s[4] != '-' || s[7] != '-') return -1;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return -1;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*y < 1800 || *m < 1 || *m > 12 || *d < 1) return -1;
    int max = mdays[*m - 1] + (*m == 2 && leap(*y));
    return *d <= max ? 0 : -1;
}

int zv_date_valid(const char *s, size_t len)
{
    int y, m, d;
    return parse_date(s, len, &y, &m, &d) == 0;
}

int zv_date_days(const char *s, int64_t *days)
{
    int y, m, d;
    if (!s || parse_date(s, strlen(s), &y, &m, &d) < 0) return -1;
    /* Days from civil (Howard Hinnant's algorithm, proleptic Gregorian). */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return 0;
}

/* zinvold --today: seconds added to the system clock, so that the day
 * (waiting records, message dates) can be set for a test or a late run
 * while time still moves on.  Set once at start-up, before any thread. */
static int64_t clock_offset;

void zv_clock_set_today(int64_t days)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int64_t today;
    char buf[11];
    strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
    if (zv_date_days(buf, &today) == 0) clock_offset = (days - today) * 86400;
}

void zv_date_today(char out[11])
{
    time_t t = (time_t)(time(NULL) + clock_offset);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int64_t zv_now(void)
{
    return (int64_t)time(NULL) + clock_offset;
}

int64_t zv_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset * 1000;
}

int64_t zv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zv_time_iso(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t zv_duration_parse(const char *s)
{
    if (!s || !*s) return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return -1;
    int64_t mult = 1;
    if (*end == 's')
        mult = 1, end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'd')
        mult = 86400, end++;
    if (*end) return -1;
    if ((int64_t)v > INT64_MAX / mult) return -1; /* "9999999999999999d" */
    return (int64_t)v * mult;
}
