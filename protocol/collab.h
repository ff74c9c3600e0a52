/*  collab.h: the taskcollab protocol library, everything a peer needs to speak the wire. */
#ifndef COLLAB_H
#define COLLAB_H

#include "collab_action.h"
#include "collab_envelope.h"
#include "collab_error.h"
#include "collab_limits.h"
#include "collab_map.h"
#include "collab_mp.h"
#include "collab_pack.h"
#include "collab_sign.h"
#include "collab_text.h"

#endif
