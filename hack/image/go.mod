// Image module: assembles the manager image (an OCI image index for
// linux/amd64 and linux/arm64) with go-containerregistry, no Docker engine.
// A module of its own so that the manager's go.mod does not carry it.
module github.com/landlord-dev/landlord/hack/image

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
