{
  "targets": [
    {
      "target_name": "afpacket",
      "sources": ["native/afpacket.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
