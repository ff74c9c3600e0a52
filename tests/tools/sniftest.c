/*  sniftest.c: the sniffer run over a file, for the tests (see sniftest.h). */
#include "sniftest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void on_note(void *arg, const char *text)
{
    st_got_t *g = arg;
    int n = snprintf(g->notes + g->notes_len, sizeof g->notes - g->notes_len, "%s\n", text);
    if (n > 0 && (size_t)n < sizeof g->notes - g->notes_len)
        g->notes_len += (size_t)n;
}

static void keep(st_got_t *g, const collab_sniff_msg_t *m)
{
    st_msg_t *k = &g->m[g->n++];
    const collab_envelope_t *e = &m->env;
    k->kind = m->decode_rc == 0 ? (int)e->kind : 0;
    k->encrypted = m->encrypted;
    k->dropped = m->dropped;
    k->ts = m->ts;
    k->decode_rc = m->decode_rc;
    k->conn = m->conn;
    k->dir = m->dir;
    k->rid = e->request_id;
    collab_span_t name = e->kind == COLLAB_KIND_EVENT ? e->event : e->action;
    snprintf(k->name, sizeof k->name, "%.*s", (int)name.len, name.ptr ? name.ptr : "");
    snprintf(k->reply_to, sizeof k->reply_to, "%s", m->reply_to);
    snprintf(k->agent, sizeof k->agent, "%.*s", (int)e->agent_id.len,
             e->agent_id.ptr ? e->agent_id.ptr : "");
    k->nframes = m->nframes;
    k->envelope_frame = m->envelope_frame;
    snprintf(k->src, sizeof k->src, "%s", m->src);
    collab_sniff_format(m, k->line, sizeof k->line);
    k->json = collab_sniff_json(m);
}

st_got_t *st_sniff_file(const char *path, uint16_t port)
{
    return st_sniff_file_limits(path, port, NULL);
}

st_got_t *st_sniff_file_limits(const char *path, uint16_t port, const collab_sniff_limits_t *lim)
{
    st_got_t *g = calloc(1, sizeof *g);
    if (!g)
        exit(1);
    collab_sniffer_t *s = collab_sniffer_open_file(path, port, g->err, sizeof g->err);
    if (!s) {
        g->open_rc = -1;
        return g;
    }
    if (lim && collab_sniffer_set_limits(s, lim) != 0) {
        snprintf(g->err, sizeof g->err, "limits refused");
        g->open_rc = -1;
        collab_sniffer_destroy(&s);
        return g;
    }
    collab_sniffer_on_note(s, on_note, g);
    const collab_sniff_msg_t *m;
    while (collab_sniffer_next(s, &m, 0) == 0)
        if (g->n < ST_MAX_MSGS)
            keep(g, m);
    collab_sniffer_stats(s, &g->st);
    collab_sniffer_destroy(&s);
    if (getenv("ST_VERBOSE")) { /* for debugging a test: what the sniffer said */
        fprintf(stderr, "== %s\n%s", path, g->notes);
        for (size_t i = 0; i < g->n; i++)
            fprintf(stderr, "%s\n", g->m[i].line);
    }
    return g;
}

void st_free(st_got_t **g_p)
{
    if (!*g_p)
        return;
    for (size_t i = 0; i < (*g_p)->n; i++)
        free((*g_p)->m[i].json);
    free(*g_p);
    *g_p = NULL;
}

int st_notes(const st_got_t *g, const char *needle)
{
    int n = 0;
    for (const char *p = g->notes; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

int st_count(const st_got_t *g, int kind, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += g->m[i].kind == kind && (!name || strcmp(g->m[i].name, name) == 0);
    return n;
}

const char *st_path(const char *name)
{
    static char paths[4][128];
    static int slot;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/collab-sniff-test-XXXXXX");
        if (!mkdtemp(dir))
            exit(1);
    }
    char *p = paths[slot++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

void st_cleanup(void)
{
    if (!dir[0])
        return;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char p[400];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    dir[0] = '\0';
}
