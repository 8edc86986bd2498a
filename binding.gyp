{
  # Sources are listed by directory so that a new protocol file needs no edit here.
  # SIMD kernels use per-function target attributes (see native/checksum/), so no
  # per-file -mavx2: the addon runs on any x86-64 and dispatches at run time.
  # `-Dsanitize=1` (native/sanitize/build.sh): the addon with AddressSanitizer and
  # UndefinedBehaviorSanitizer, for test/sanitize/; never the build npm ci makes.
  "variables": {"sanitize%": 0},
  "targets": [
    {
      "target_name": "csumtop",
      "sources": [
        "<!@(node -e \"const fs=require('fs');for(const d of ['native','native/napi','native/checksum','native/decode','native/capture','native/flow','native/host','native/kdrops'])for(const f of fs.readdirSync(d).sort())if(f.endsWith('.cc'))console.log(d+'/'+f)\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<(SHARED_INTERMEDIATE_DIR)"
      ],
      # The eBPF program of issue 18, compiled with clang -target bpf into a generated
      # header the loader includes (scripts/build-bpf.js; without clang or libbpf-dev the
      # header says "not built in" and the addon still builds). libbpf itself is not
      # linked: native/kdrops/libbpf_dl.h dlopen()s it at run time (why: see there).
      "actions": [
        {
          "action_name": "kernel_drops_bpf",
          "inputs": ["native/bpf/kernel_drops.bpf.c", "native/bpf/kernel_drops_event.h", "scripts/build-bpf.js"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/kernel_drops_bpf.h"],
          "action": ["node", "scripts/build-bpf.js", "<(SHARED_INTERMEDIATE_DIR)/kernel_drops_bpf.h"]
        }
      ],
      "libraries": ["-ldl"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [
        ["sanitize==1", {
          "cflags_cc!": ["-O3"],
          "cflags_cc": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
          "ldflags": ["-fsanitize=address,undefined"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17"}
        }]
      ]
    }
  ]
}
