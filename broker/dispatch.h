/*  dispatch.h: from one received message to one handled request: decode, session, agent,
    binding, signature, timestamp window, role, then the action's handler (PROTOCOL.md 4.6). */
#ifndef COLLAB_DISPATCH_H
#define COLLAB_DISPATCH_H

#include "core.h"

/*  Handles one message of `frames` body frames (body holds the first). Always answers
    (or counts a drop); never takes ownership of the messages. */
void collab_dispatch(collab_broker_t *self, zmq_msg_t *rid, zmq_msg_t *body, int frames);

#endif
