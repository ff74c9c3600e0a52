/*  lg_proc.c: /proc sampling (see lg_proc.h). */
#include "lg_proc.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/*  utime and stime are fields 14 and 15 of a stat file (/proc/PID/stat, or a thread's
    /proc/PID/task/TID/stat), nice is field 19, counted after the ")" that closes the
    command name (which may itself hold spaces and parentheses). */
static int read_stat(const char *path, double *cpu_s, long *nice)
{
    char buf[1024];
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    long ni = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %ld",
                     &utime, &stime, &ni) != 3)
        return -1;
    *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    *nice = ni;
    return 0;
}

static int read_cpu(int pid, double *cpu_s)
{
    char path[64];
    long nice;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    return read_stat(path, cpu_s, &nice);
}

double lg_proc_niced_cpu(int pid)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = pid > 0 ? opendir(path) : NULL;
    double sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        double cpu;
        long nice;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.32s/stat", pid, e->d_name);
        if (read_stat(path, &cpu, &nice) == 0 && nice > 0)
            sum += cpu;
    }
    if (d)
        closedir(d);
    return sum;
}

static int read_mem(int pid, long *rss_kb, long *hwm_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        found += sscanf(line, "VmRSS: %ld kB", rss_kb) == 1;
        found += sscanf(line, "VmHWM: %ld kB", hwm_kb) == 1;
    }
    fclose(f);
    return found == 2 ? 0 : -1;
}

int lg_proc_sample(int pid, lg_proc_t *out)
{
    memset(out, 0, sizeof *out);
    if (pid <= 0 || read_cpu(pid, &out->cpu_s) != 0 ||
        read_mem(pid, &out->rss_kb, &out->hwm_kb) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

double lg_proc_self_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double lg_proc_machine_busy(void)
{
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
                   &iowait, &irq, &softirq, &steal);
    fclose(f);
    if (n != 8)
        return 0;
    return (double)(user + nice + sys + irq + softirq + steal) / (double)sysconf(_SC_CLK_TCK);
}
