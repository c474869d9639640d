{
  "targets": [
    {
      "target_name": "afpacket",
      "sources": ["native/afpacket.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter", "-O2", "-D_FORTIFY_SOURCE=2"],
      "ldflags": ["-Wl,-z,relro", "-Wl,-z,now"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
