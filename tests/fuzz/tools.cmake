# Fuzz targets for the files the agents and tools read (issue 13): the scenario JSON, CURVE
# certificates, pcap files through TCP reassembly and ZMTP, collab-replay's capture files.
# Same pattern as decode/verify: fuzz_NAME_replay always runs corpus_NAME/ under ctest;
# with COLLAB_FUZZ=ON, fuzz_NAME is the libFuzzer binary, e.g.
#   build-fuzz/tests/fuzz_pcap -max_total_time=300 -dict=tests/fuzz/pcap.dict CORPUS_COPY
function(collab_fuzz_tool_target name)
  add_executable(fuzz_${name}_replay fuzz/replay_main.c fuzz/fuzz_${name}.c)
  target_link_libraries(fuzz_${name}_replay PRIVATE ${ARGN})
  add_test(NAME fuzz_${name}_replay
           COMMAND fuzz_${name}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_${name})
  if(COLLAB_FUZZ)
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c)
    target_link_libraries(fuzz_${name} PRIVATE ${ARGN})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()

collab_fuzz_tool_target(scenario collab_scenario)
collab_fuzz_tool_target(capfile collab_capfile)
collab_fuzz_tool_target(pcap collab_sniff)
collab_fuzz_tool_target(cert collab_certfile collab_agent_common collab_broker_core)
