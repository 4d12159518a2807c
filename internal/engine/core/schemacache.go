package core

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/dvpkit/dvp/internal/schema"
)

// compiledSchemas remembers whether each plugin schema the engine checked
// compiles, by its JSON: every build of a plugin carries the same schemas,
// and compiling them was the largest CPU cost of an upload. The answer
// depends only on the schema's bytes and its name (which its errors
// quote), so a cached answer is the answer. Bounded: it starts over past
// maxCompiledSchemas entries.
type compiledSchemas struct {
	mu sync.Mutex
	m  map[[32]byte]error
}

const maxCompiledSchemas = 4096

// check is schema.CheckCompiles, answered from the cache when it can be.
func (c *compiledSchemas) check(name string, sch any) error {
	b, err := json.Marshal(sch)
	if err != nil {
		return schema.CheckCompiles(name, sch)
	}
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(b)
	var key [32]byte
	h.Sum(key[:0])
	c.mu.Lock()
	res, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return res
	}
	res = schema.CheckCompiles(name, sch)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCompiledSchemas {
		c.m = map[[32]byte]error{}
	}
	c.m[key] = res
	c.mu.Unlock()
	return res
}
