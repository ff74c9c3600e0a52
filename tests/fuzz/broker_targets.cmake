# The fuzz targets of the broker's and agents' file and command-line parsers (issue 13), in
# the pattern of fuzz_decode and fuzz_verify above: a replay binary per target that runs the
# committed corpus under ctest (fuzz_NAME_replay), and with COLLAB_FUZZ=ON the libFuzzer
# binary fuzz_NAME. Corpus: fuzz/corpus_NAME/ when present, else fuzz/corpus/; dictionary
# (scripts/fuzz): fuzz/NAME.dict when present.
function(collab_broker_fuzz_target name)
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
  if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_${name})
    set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_${name})
  endif()
  add_executable(fuzz_${name}_replay fuzz/replay_main.c fuzz/fuzz_${name}.c)
  target_link_libraries(fuzz_${name}_replay PRIVATE ${ARGN})
  add_test(NAME fuzz_${name}_replay COMMAND fuzz_${name}_replay ${corpus})
  if(COLLAB_FUZZ)
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c)
    target_link_libraries(fuzz_${name} PRIVATE ${ARGN})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()

collab_broker_fuzz_target(number collab_protocol)
collab_broker_fuzz_target(config collab_broker_core)
collab_broker_fuzz_target(creds collab_broker_core)
collab_broker_fuzz_target(keyfile collab_agent_common)
collab_broker_fuzz_target(audit collab_broker_core)
