package zipfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"sync"
)

// DeflateChunk is the size of the pieces a large file is compressed in,
// in parallel. It is part of the output format: changing it changes the
// bytes of every artifact (never their content).
const DeflateChunk = 1 << 20

// WritePacked writes the deterministic ZIP (entries sorted by name, no
// directory entries, the fixed Epoch time, Unix permissions only,
// deflate) that Write writes, where entries may be packed ahead (pre, by
// Pack: the build compresses the binary while it does other work, or
// stores it with StoreLevel), and a file larger than DeflateChunk is compressed in independent 1 MiB pieces on all
// cores, which are then joined into one deflate stream. The output is as
// deterministic: it depends on the data and the Go version only, not on
// the number of cores.
func WritePacked(w io.Writer, files []File, pre map[string]*PackedFile) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i, f := range sorted {
		if err := ValidateEntryName(f.Name); err != nil {
			return err
		}
		if i > 0 && sorted[i-1].Name == f.Name {
			return fmt.Errorf("zip: duplicate entry %q", f.Name)
		}
	}
	zw := zip.NewWriter(w)
	for _, f := range sorted {
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o644
		}
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate}
		h.SetMode(mode)
		h.Modified = Epoch
		if p := pre[f.Name]; p != nil {
			if err := p.writeTo(zw, h); err != nil {
				return err
			}
			continue
		}
		data := f.Data
		if f.Path != "" {
			st, err := os.Stat(f.Path)
			if err != nil {
				return err
			}
			if st.Size() > spoolThreshold {
				// Streamed through a spool file: memory stays bounded.
				p, err := packFileSpooled(f.Path, st.Size(), flate.BestSpeed)
				if err != nil {
					return err
				}
				err = p.writeTo(zw, h)
				p.discard()
				if err != nil {
					return err
				}
				continue
			}
			if data, err = os.ReadFile(f.Path); err != nil {
				return err
			}
		}
		if len(data) <= DeflateChunk {
			ew, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if _, err := ew.Write(data); err != nil {
				return err
			}
			continue
		}
		p, err := Pack(data, flate.BestSpeed)
		if err != nil {
			return err
		}
		if err := p.writeTo(zw, h); err != nil {
			return err
		}
	}
	return zw.Close()
}

// PackedFile is a file compressed ahead of writing the ZIP (the binary is
// compressed while the manifest is read and the sources are listed).
type PackedFile struct {
	method  uint16   // zip.Deflate, or zip.Store for StoreLevel
	chunks  [][]byte // the deflate stream, in pieces, or
	spool   *os.File // the deflate stream in a temporary file (large files), or
	stored  *os.File // the file itself, stored (PackStoredFile)
	closed  bool
	compLen int
	crc     uint32
	size    uint64
	sha256  string // hex, of the uncompressed data
}

// Pack compresses data at level for WritePacked, in DeflateChunk pieces on all
// cores when it is larger than one piece.
func Pack(data []byte, level int) (*PackedFile, error) {
	var sum [sha256.Size]byte
	var crc uint32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sum = sha256.Sum256(data)
		crc = crc32.ChecksumIEEE(data)
	}()
	var chunks [][]byte
	var err error
	if level == StoreLevel {
		chunks = [][]byte{data}
	} else {
		chunks, err = parallelDeflate(data, level)
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	method := zip.Deflate
	if level == StoreLevel {
		method = zip.Store
	}
	return &PackedFile{method: method, chunks: chunks, compLen: n, crc: crc, size: uint64(len(data)), sha256: hex.EncodeToString(sum[:])}, nil
}

// storedBuffer is the size of the reads of PackStoredFile and of the
// copies of a stored file into the ZIP: the file is never held whole in
// memory (fresh memory for a binary of several MiB costs more than hashing
// it, in page faults), and the buffers are reused (storedBuffers).
const storedBuffer = 64 << 10

var storedBuffers = sync.Pool{New: func() any { b := make([]byte, storedBuffer); return &b }}

// copyStored is io.CopyBuffer with a buffer of storedBuffers, reading
// through r's Read only (not a WriteTo of its own).
func copyStored(dst io.Writer, r io.Reader) (int64, error) {
	buf := storedBuffers.Get().(*[]byte)
	defer storedBuffers.Put(buf)
	return io.CopyBuffer(dst, onlyReader{r}, *buf)
}

// PackStoredFile is Pack(content, StoreLevel) for the content of the file
// at path, read in pieces instead of held in memory: it reads the file once
// for its size, CRC-32 and sha256, and keeps it open; WritePacked copies it
// from there, checking that it still has that size and CRC-32, so that a
// file changed in between fails the write instead of giving an entry that
// differs from its header and its sha256. Close releases the file.
func PackStoredFile(path string) (_ *PackedFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	sum, crc := sha256.New(), crc32.NewIEEE()
	n, err := copyStored(io.MultiWriter(sum, crc), f)
	if err != nil {
		return nil, err
	}
	return &PackedFile{method: zip.Store, stored: f, compLen: int(n), crc: crc.Sum32(), size: uint64(n),
		sha256: hex.EncodeToString(sum.Sum(nil))}, nil
}

// onlyReader hides every method of a reader but Read (io.CopyBuffer would
// use *os.File's WriteTo, with a buffer of its own).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// Close releases what a packed file holds on disk: the file of
// PackStoredFile, the spool of a large file. The packed file cannot be
// written after.
func (p *PackedFile) Close() error {
	p.closed = true
	p.discard()
	if p.stored != nil {
		err := p.stored.Close()
		p.stored = nil
		return err
	}
	return nil
}

// SHA256 is the hex sha256 of the uncompressed data.
func (p *PackedFile) SHA256() string { return p.sha256 }

func (p *PackedFile) writeTo(zw *zip.Writer, h *zip.FileHeader) error {
	if p.closed {
		return fmt.Errorf("zip: %s: the packed file was closed", h.Name)
	}
	h.Method = p.method
	setRawTime(h)
	// CreateHeader's versions: made by Unix, ZIP 2.0 (deflate).
	h.CreatorVersion = h.CreatorVersion&0xff00 | 20
	h.ReaderVersion = 20
	h.CRC32 = p.crc
	h.UncompressedSize64 = p.size
	h.CompressedSize64 = uint64(p.compLen)
	rw, err := zw.CreateRaw(h)
	if err != nil {
		return err
	}
	if p.stored != nil {
		// One byte more than packed: a file that grew is caught too.
		crc := crc32.NewIEEE()
		src := io.TeeReader(io.NewSectionReader(p.stored, 0, int64(p.size)+1), crc)
		n, err := copyStored(rw, src)
		if err == nil && (uint64(n) != p.size || crc.Sum32() != p.crc) {
			err = fmt.Errorf("zip: %s changed after it was packed (%d bytes, CRC-32 %08x; packed: %d bytes, %08x)", p.stored.Name(), n, crc.Sum32(), p.size, p.crc)
		}
		return err
	}
	if p.spool != nil {
		if _, err := p.spool.Seek(0, io.SeekStart); err != nil {
			return err
		}
		n, err := io.Copy(rw, p.spool)
		if err == nil && n != int64(p.compLen) {
			err = fmt.Errorf("zip: the spool of a packed file holds %d bytes, not %d", n, p.compLen)
		}
		return err
	}
	for _, c := range p.chunks {
		if _, err := rw.Write(c); err != nil {
			return err
		}
	}
	return nil
}

// discard removes the spool file of a packed file, if any.
func (p *PackedFile) discard() {
	if p.spool != nil {
		p.spool.Close()
		os.Remove(p.spool.Name())
		p.spool = nil
	}
}

// spoolThreshold is the size above which WritePacked streams a file
// given by path through a spool file instead of reading it into memory.
// The bytes written are the same either way.
const spoolThreshold = 32 << 20

// packFileSpooled is Pack for a file of the given size read from path,
// streaming: it reads a batch of DeflateChunk pieces (one per core),
// compresses them in parallel exactly as parallelDeflate does, appends
// them to a temporary file, and goes on, so that memory stays a few MiB per
// core whatever the size.
func packFileSpooled(path string, size int64, level int) (_ *PackedFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spool, err := os.CreateTemp("", "dvp-zip-*")
	if err != nil {
		return nil, err
	}
	p := &PackedFile{method: zip.Deflate, spool: spool, size: uint64(size)}
	defer func() {
		if err != nil {
			p.discard()
		}
	}()
	sum, crc := sha256.New(), crc32.NewIEEE()
	n := max(1, int((size+DeflateChunk-1)/DeflateChunk))
	batch := goruntime.GOMAXPROCS(0)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, DeflateChunk)
	}
	out := make([][]byte, batch)
	errs := make([]error, batch)
	for first := 0; first < n; first += batch {
		count := min(batch, n-first)
		for j := 0; j < count; j++ {
			want := int(min(int64(DeflateChunk), size-int64(first+j)*DeflateChunk))
			if _, err := io.ReadFull(f, bufs[j][:want]); err != nil {
				return nil, fmt.Errorf("reading %s (did it change while being packed?): %w", path, err)
			}
			bufs[j] = bufs[j][:want]
			sum.Write(bufs[j])
			crc.Write(bufs[j])
		}
		var wg sync.WaitGroup
		for j := 0; j < count; j++ {
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				out[j], errs[j] = deflateChunk(bufs[j], level, first+j == n-1)
			}(j)
		}
		wg.Wait()
		for j := 0; j < count; j++ {
			if errs[j] != nil {
				return nil, errs[j]
			}
			if _, err := spool.Write(out[j]); err != nil {
				return nil, err
			}
			p.compLen += len(out[j])
			bufs[j] = bufs[j][:cap(bufs[j])]
		}
	}
	if extra, _ := f.Read(make([]byte, 1)); extra > 0 {
		return nil, fmt.Errorf("reading %s: it grew while being packed", path)
	}
	p.crc = crc.Sum32()
	p.sha256 = hex.EncodeToString(sum.Sum(nil))
	return p, nil
}

// deflateChunk compresses one piece of a parallel deflate stream: a sync
// flush ends every piece but the last, which gets the final block.
func deflateChunk(data []byte, level int, last bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) / 2)
	fw, err := flateWriter(&buf, level)
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		if last {
			err = fw.Close()
		} else {
			err = fw.Flush()
		}
	}
	if err == nil {
		flateWriters[level-flate.HuffmanOnly].Put(fw)
	}
	return buf.Bytes(), err
}

// flateWriters keep compressors for reuse, one pool per level (from
// flate.HuffmanOnly to flate.BestCompression): a compressor holds about a
// MiB of tables, and making a new one for every source file cost more than
// compressing it. A compressor Reset is the same as a new one, so the
// bytes do not change.
var flateWriters [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool

func flateWriter(w io.Writer, level int) (*flate.Writer, error) {
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		return flate.NewWriter(w, level) // its error
	}
	if fw, ok := flateWriters[level-flate.HuffmanOnly].Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw, nil
	}
	return flate.NewWriter(w, level)
}

// parallelDeflate compresses data as one raw deflate stream made of
// independently compressed chunks: every chunk but the last ends with a
// sync flush (an empty stored block, byte aligned, not final), the last with
// the final block, so their concatenation is a valid stream.
func parallelDeflate(data []byte, level int) ([][]byte, error) {
	n := max(1, (len(data)+DeflateChunk-1)/DeflateChunk)
	out := make([][]byte, n)
	errs := make([]error, n)
	workers := goruntime.GOMAXPROCS(0)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			end := min((i+1)*DeflateChunk, len(data))
			out[i], errs[i] = deflateChunk(data[i*DeflateChunk:end], level, i == n-1)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StoreLevel, as a Pack level, stores a file without compression (zip.Store).
const StoreLevel = -100

// setRawTime does for CreateRaw what zip.Writer.CreateHeader does with
// Modified (CreateRaw leaves it out): the MS-DOS date and time, and the
// extended timestamp extra field, so that raw entries carry the same
// Epoch as the others.
func setRawTime(h *zip.FileHeader) {
	if h.Modified.IsZero() {
		return
	}
	t := h.Modified.UTC()
	// The MS-DOS fields are deprecated for callers of CreateHeader, which
	// fills them from Modified; CreateRaw does not, so they are set here.
	//lint:ignore SA1019 CreateRaw writes these fields as given
	h.ModifiedDate = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	//lint:ignore SA1019 CreateRaw writes these fields as given
	h.ModifiedTime = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	var b [9]byte
	binary.LittleEndian.PutUint16(b[0:], 0x5455) // extended timestamp
	binary.LittleEndian.PutUint16(b[2:], 5)
	b[4] = 1 // modification time present
	binary.LittleEndian.PutUint32(b[5:], uint32(t.Unix()))
	h.Extra = append(h.Extra, b[:]...)
}
