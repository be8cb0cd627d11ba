// Command pause is the sandbox ("pause") image of the real node
// (internal/node): it holds a pod's namespaces and does nothing else until
// it is told to stop. Static, no libc, so the image is this one file.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
