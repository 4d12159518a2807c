package artifact

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/dvpkit/dvp/internal/diag"
	"github.com/dvpkit/dvp/internal/fsutil"
	"github.com/dvpkit/dvp/internal/zipfile"
)

// ZipLimits bound what CheckSourceZip accepts.
type ZipLimits struct {
	MaxEntries      int   // 0: 100000
	MaxUncompressed int64 // total of all entries; 0: 4 GiB
}

func (l ZipLimits) withDefaults() ZipLimits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100000
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = 4 << 30
	}
	return l
}

// SourceInfo describes a checked sourceCode ZIP.
type SourceInfo struct {
	Entries      int
	Uncompressed int64
	BinarySize   int64
	BinarySHA256 string
	Record       *BuildRecord
}

// ELF header values of a linux/amd64 executable.
const (
	elfClass64    = 2
	elfDataLSB    = 1
	elfOSABISysV  = 0
	elfOSABILinux = 3
	elfTypeExec   = 2
	elfTypeDyn    = 3
	elfMachineX86 = 62
)

// CheckELFHeader checks that hdr (at least the first 20 bytes of a file)
// starts a 64-bit little-endian x86-64 Linux executable.
func CheckELFHeader(hdr []byte) error {
	if len(hdr) < 20 || !bytes.HasPrefix(hdr, []byte("\x7fELF")) {
		return errors.New("is not an ELF executable (the plugin must be compiled for linux/amd64)")
	}
	if hdr[4] != elfClass64 || hdr[5] != elfDataLSB {
		return errors.New("is not a 64-bit little-endian ELF file (the plugin must be compiled for linux/amd64)")
	}
	if hdr[7] != elfOSABISysV && hdr[7] != elfOSABILinux {
		return fmt.Errorf("is an ELF file for another operating system (OS ABI %d); compile the plugin with GOOS=linux", hdr[7])
	}
	if t := binary.LittleEndian.Uint16(hdr[16:18]); t != elfTypeExec && t != elfTypeDyn {
		return fmt.Errorf("is an ELF file of type %d, not an executable", t)
	}
	if m := binary.LittleEndian.Uint16(hdr[18:20]); m != elfMachineX86 {
		return fmt.Errorf("is an ELF file for machine %d, not x86-64; compile the plugin with GOARCH=amd64", m)
	}
	return nil
}

// CheckSourceZip checks the decoded sourceCode: a ZIP archive whose entries
// have safe, unique names (ValidateEntryName), are regular files or
// directories, unencrypted, stored or deflated, within lim, with intact
// content (every entry is read and its CRC checked); holding the plugin
// binary (BinaryEntry, an ELF linux/amd64 executable) and the build record
// (BuildRecordEntry) whose target is linux/amd64 and whose binary hash
// matches the binary.
func CheckSourceZip(r io.ReaderAt, size int64, lim ZipLimits) (*SourceInfo, diag.List) {
	lim = lim.withDefaults()
	c := &checker{}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		c.addf(sourceCodePointer, "is not a ZIP archive: %v", err)
		return nil, c.ps
	}
	if len(zr.File) > lim.MaxEntries {
		c.addf(sourceCodePointer, "the ZIP has %d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)
		return nil, c.ps
	}
	info := &SourceInfo{Entries: len(zr.File)}
	declared, binary, record := c.zipEntries(zr, lim)
	if len(c.ps) > 0 {
		return nil, c.ps
	}
	info.Uncompressed = int64(declared)
	c.readZipEntries(zr, binary, info)
	if record != nil && len(c.ps) == 0 {
		c.buildRecord(record, info)
	}
	if len(c.ps) > 0 {
		return nil, c.ps
	}
	return info, nil
}

// sourceCodePointer is where CheckSourceZip's problems are.
const sourceCodePointer = "/sourceCode"

// zipEntries checks the ZIP's entries by their headers (names, kinds,
// encryption, compression, the declared size within lim) and finds the
// plugin binary and the build record, saying when one is missing.
// declared is the sum of the files' declared sizes.
func (c *checker) zipEntries(zr *zip.Reader, lim ZipLimits) (declared uint64, binary, record *zip.File) {
	const p = sourceCodePointer
	names := map[string]bool{}
	dirs := map[string]bool{}
	for _, f := range zr.File {
		if err := zipfile.ValidateEntryName(f.Name); err != nil {
			c.addf(p, "unsafe ZIP entry: %v", err)
			continue
		}
		clean := strings.TrimSuffix(f.Name, "/")
		if names[clean] {
			c.addf(p, "the ZIP has two entries named %q", clean)
			continue
		}
		names[clean] = true
		mode := f.Mode()
		switch {
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			dirs[clean] = true
			continue
		case !mode.IsRegular():
			c.addf(p, "ZIP entry %q is %s, not a regular file", f.Name, fsutil.Kind(mode))
			continue
		}
		if f.Flags&0x1 != 0 {
			c.addf(p, "ZIP entry %q is encrypted", f.Name)
			continue
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			c.addf(p, "ZIP entry %q uses compression method %d (only stored and deflated entries are accepted)", f.Name, f.Method)
			continue
		}
		declared += f.UncompressedSize64
		switch f.Name {
		case BinaryEntry:
			binary = f
		case BuildRecordEntry:
			record = f
		}
	}
	// A file may not also be a directory ("a" and "a/b").
	for name := range names {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if names[dir] && !dirs[dir] {
				c.addf(p, "ZIP entry %q is inside %q, which is a file", name, dir)
				break
			}
		}
	}
	if declared > uint64(lim.MaxUncompressed) {
		c.addf(p, "the ZIP expands to %d bytes, more than the limit of %d", declared, lim.MaxUncompressed)
	}
	if binary == nil {
		c.addf(p, "the ZIP has no plugin binary %q (the plugin compiled for %s); build the artifact with 'dvp build'", BinaryEntry, BinaryTarget)
	}
	if record == nil {
		c.addf(p, "the ZIP has no build record %q; build the artifact with 'dvp build'", BuildRecordEntry)
	}
	return declared, binary, record
}

// readZipEntries reads every file of the ZIP (archive/zip checks each
// entry's CRC and size at EOF), hashing the plugin binary into info and
// checking its ELF header.
func (c *checker) readZipEntries(zr *zip.Reader, binary *zip.File, info *SourceInfo) {
	const p = sourceCodePointer
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	for _, f := range zr.File {
		if f.Mode().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			c.addf(p, "ZIP entry %q cannot be read: %v", f.Name, err)
			continue
		}
		var w io.Writer = io.Discard
		h := sha256.New()
		var head []byte
		if f == binary {
			hw := &headWriter{max: 64}
			w = io.MultiWriter(h, hw)
			_, err = io.CopyBuffer(w, rc, buf)
			head = hw.b
		} else {
			_, err = io.CopyBuffer(w, rc, buf)
		}
		rc.Close()
		if err != nil {
			c.addf(p, "ZIP entry %q is corrupt: %v", f.Name, err)
			continue
		}
		if f == binary {
			info.BinarySize = int64(f.UncompressedSize64)
			info.BinarySHA256 = hex.EncodeToString(h.Sum(nil))
			if err := CheckELFHeader(head); err != nil {
				c.addf(p, "the plugin binary %q %v", BinaryEntry, err)
			}
		}
	}
}

// buildRecord reads the build record into info and checks it against the
// binary: its target, and its hash of the binary.
func (c *checker) buildRecord(record *zip.File, info *SourceInfo) {
	const p = sourceCodePointer
	rec, err := readBuildRecord(record)
	if err != nil {
		c.addf(p, "the build record %q %v", BuildRecordEntry, err)
		return
	}
	info.Record = rec
	if rec.Target != BinaryTarget {
		c.addf(p, "the build record says the binary targets %q; this engine runs %s plugins", rec.Target, BinaryTarget)
	}
	if !strings.EqualFold(rec.BinarySHA256, info.BinarySHA256) {
		c.addf(p, "the build record's binarySha256 %q does not match the plugin binary (sha256 %s): the archive was altered after the build", rec.BinarySHA256, info.BinarySHA256)
	}
}

type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		w.b = append(w.b, p[:room]...)
	}
	return len(p), nil
}

func readBuildRecord(f *zip.File) (*BuildRecord, error) {
	if f.UncompressedSize64 > 1<<20 {
		return nil, errors.New("is larger than 1 MiB")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, err
	}
	var rec BuildRecord
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&rec); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", err)
	}
	if rec.Target == "" || rec.BinarySHA256 == "" {
		return nil, errors.New("lacks its target or binarySha256")
	}
	return &rec, nil
}

// copyBuffers are CheckSourceZip's read buffers, kept between checks.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}
