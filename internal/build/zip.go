package build

import "github.com/dvpkit/dvp/internal/zipfile"

// binaryLevel is how the plugin binary is put into the ZIP: stored,
// without compression. Deflate would shrink a Go binary to about 60%
// (BestSpeed; 75% with Huffman coding only) but costs 10 to 30 ms of CPU per
// build on a small plugin, a fifth of a warm go build; the artifact is
// uploaded once over a network where the difference does not matter, and
// build time is paid on every build. Like deflateChunk, it is part of the
// output format.
const binaryLevel = zipfile.StoreLevel
