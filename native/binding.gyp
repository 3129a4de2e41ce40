{
  "targets": [
    {
      "target_name": "dranspose_native",
      "sources": ["src/addon.c", "src/decode.c", "src/heartbeat.c", "src/lz4_block.c", "src/shared_memory.c", "src/unshuffle.c"],
      "cflags_c": ["-std=c11", "-O3", "-Wall", "-Wextra"]
    }
  ]
}
