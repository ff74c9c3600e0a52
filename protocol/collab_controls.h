/*  collab_controls.h: the controls of LAB.md as the lab's binaries know them: their indices
    (COLLAB_CTL_*), names and short descriptions, all from collab_controls.def. Header only. */
#ifndef COLLAB_CONTROLS_H
#define COLLAB_CONTROLS_H

#include <stddef.h>
#include <string.h>

/*  Indices of the controls, in LAB.md's order (control #1 is 0), then their count. */
enum {
#define COLLAB_CONTROL(id, name, number, weak, strong) COLLAB_CTL_##id,
#include "collab_controls.def"
    COLLAB_CONTROL_COUNT
};

/*  One control as collab_controls.def describes it. */
typedef struct {
    const char *name;   /* "session_ids": its switch and its matrix column */
    int number;         /* its number in LAB.md and broker.cfg */
    const char *weak;   /* its weak behaviour, in short */
    const char *strong; /* its strong behaviour, in short */
} collab_control_info_t;

/*  The control of that index (a COLLAB_CTL_ value), or NULL when out of range. Lends. */
static inline const collab_control_info_t *collab_control_info(int index)
{
    static const collab_control_info_t info[] = {
#define COLLAB_CONTROL(id, name, number, weak, strong) {name, number, weak, strong},
#include "collab_controls.def"
    };
    return index >= 0 && index < COLLAB_CONTROL_COUNT ? &info[index] : NULL;
}

/*  The control names of LAB.md in order: "session_ids", "session_lifetime", ...; NULL
    when index is out of range. */
static inline const char *collab_control_name(int index)
{
    const collab_control_info_t *c = collab_control_info(index);
    return c ? c->name : NULL;
}

/*  The index of the control named name, or -1 when no control has that name. */
static inline int collab_control_find(const char *name)
{
    for (int i = 0; name && i < COLLAB_CONTROL_COUNT; i++)
        if (strcmp(name, collab_control_info(i)->name) == 0)
            return i;
    return -1;
}

/*  The control that control index acts on top of (COLLAB_CONTROL_REQUIRES), or -1. */
static inline int collab_control_requires(int index)
{
    static const struct {
        int id, required;
    } req[] = {
#define COLLAB_CONTROL_REQUIRES(id, required) {COLLAB_CTL_##id, COLLAB_CTL_##required},
#include "collab_controls.def"
        {-1, -1}};
    for (size_t i = 0; req[i].id >= 0; i++)
        if (req[i].id == index)
            return req[i].required;
    return -1;
}

/*  Whether control index acts only in a cluster of brokers (COLLAB_CONTROL_CLUSTER). */
static inline int collab_control_is_cluster(int index)
{
    static const int cl[] = {
#define COLLAB_CONTROL_CLUSTER(id) COLLAB_CTL_##id,
#include "collab_controls.def"
        -1};
    for (size_t i = 0; cl[i] >= 0; i++)
        if (cl[i] == index)
            return 1;
    return 0;
}

/*  Whether control index is enforced by the web gateway (COLLAB_CONTROL_WEB). */
static inline int collab_control_is_web(int index)
{
    static const int web[] = {
#define COLLAB_CONTROL_WEB(id) COLLAB_CTL_##id,
#include "collab_controls.def"
        -1};
    for (size_t i = 0; web[i] >= 0; i++)
        if (web[i] == index)
            return 1;
    return 0;
}

#endif
