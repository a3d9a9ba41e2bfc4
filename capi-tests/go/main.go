// Linking librunc from Go through cgo: run a container, read its exit status.
package main

/*
#cgo pkg-config: librunc
#include <stdlib.h>
#include <string.h>
#include <runc.h>
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gorunc STATE_ROOT ROOTFS")
		os.Exit(2)
	}
	root := C.CString(os.Args[1])
	defer C.free(unsafe.Pointer(root))
	var ctx *C.runc_context
	if rc := C.runc_context_new(root, &ctx); rc != 0 {
		fail("context")
	}
	defer C.runc_context_free(ctx)
	config := fmt.Sprintf(`{"ociVersion":"1.3.0","process":{"args":["sh","-c","exit 9"],"env":["PATH=/bin"],"cwd":"/"},`+
		`"root":{"path":%q},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}`, os.Args[2])
	cfg := C.CString(config)
	defer C.free(unsafe.Pointer(cfg))
	id := C.CString("from-go")
	defer C.free(unsafe.Pointer(id))
	var opts C.runc_create_opts
	opts.size = C.size_t(unsafe.Sizeof(opts))
	opts.config_json = cfg
	var status C.int
	if C.runc_create(ctx, id, &opts, nil) != 0 || C.runc_start(ctx, id) != 0 || C.runc_wait(ctx, id, -1, &status) != 0 {
		fail("lifecycle")
	}
	C.runc_delete(ctx, id, 0)
	if status != 9 {
		fmt.Printf("0 passed, 1 failed (status %d)\n", status)
		os.Exit(1)
	}
	fmt.Println("1 passed, 0 failed")
}

func fail(what string) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", what, C.GoString(C.runc_last_error()))
	os.Exit(1)
}
