/*  lg_proc.h: what the benchmark reads about the server it drives, from /proc/PID: CPU
    time used (user + system, every thread) and resident memory (now and peak). */
#ifndef LG_PROC_H
#define LG_PROC_H

typedef struct {
    double cpu_s; /* utime + stime, seconds */
    long rss_kb;  /* VmRSS */
    long hwm_kb;  /* VmHWM: the peak resident set since the process started */
} lg_proc_t;

/*  Samples process pid into *out. Returns 0, or -1 when it cannot be read (gone, not
    Linux); *out is then zeroed. */
int lg_proc_sample(int pid, lg_proc_t *out);

/*  CPU seconds (user + system) of the threads of process pid that run at a lower priority
    (nice above 0): the broker's password hashing pool (broker/hasher.h). 0 when none. */
double lg_proc_niced_cpu(int pid);

/*  CPU seconds (user + system) of the calling process, every thread included. */
double lg_proc_self_cpu(void);

/*  CPU seconds spent busy by the whole machine since boot, all CPUs together (user, nice,
    system, interrupts, steal), from /proc/stat; 0 when it cannot be read. */
double lg_proc_machine_busy(void);

#endif
