/*  collab_redis_acl.h: the commands a broker's ACL user on the shared store needs, and no
    more (control 17, store_access; docs/DISTRIBUTED.md section 7). redis.conf:
    `user NAME on >PASSWORD resetchannels resetkeys ~PREFIX* ` followed by these: reads,
    writes and scripts on its keys, MULTI/EXEC, INFO and CONFIG GET for the durability check
    at start (AOF, appendfsync always, noeviction); no admin or dangerous command (CONFIG SET,
    ACL, FLUSHALL, KEYS, DEBUG...), no SCRIPT FLUSH. The broker's check (broker/redis_access.c)
    and collab-attack matrix's cluster cells use this text; scripts/lib/redis.sh holds it too,
    and test_redis_sh checks that the two are equal. */
#ifndef COLLAB_REDIS_ACL_H
#define COLLAB_REDIS_ACL_H

#define COLLAB_REDIS_BROKER_ACL                                                                    \
    "-@all +@read +@write +@scripting +@keyspace +@connection +@transaction -@dangerous +info "    \
    "+config|get -script|flush -function"

#endif
