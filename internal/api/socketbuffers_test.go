package api

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

// A client may send its first frame right behind the upgrade request: the
// bytes the HTTP server had already read must reach the socket, first and
// in order, through the small buffers.
func TestSocketBuffersKeepBytesReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	go func() {
		_, _ = io.WriteString(client, "GET /realtime HTTP/1.1\r\n\r\nHELLO-FRAME")
		_, _ = io.WriteString(client, "|after")
	}()
	http := bufio.NewReaderSize(server, 4096)
	if line, err := http.ReadString('\n'); err != nil || line != "GET /realtime HTTP/1.1\r\n" {
		t.Fatalf("request line %q, %v", line, err)
	}
	if _, err := http.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if http.Buffered() != len("HELLO-FRAME") {
		t.Fatalf("the HTTP reader should hold the frame read ahead; it holds %d bytes", http.Buffered())
	}
	brw := socketBuffers(server, bufio.NewReadWriter(http, bufio.NewWriterSize(server, 4096)))
	if brw.Reader == http || brw.Reader.Size() != socketReadBuffer || brw.Writer.Size() != socketWriteBuffer {
		t.Fatalf("buffers not replaced: reader %d bytes, writer %d bytes", brw.Reader.Size(), brw.Writer.Size())
	}
	// The library looks for read-ahead bytes in the reader's buffer.
	if brw.Reader.Buffered() != len("HELLO-FRAME") {
		t.Fatalf("the new reader holds %d bytes, want the %d read ahead", brw.Reader.Buffered(), len("HELLO-FRAME"))
	}
	got := make([]byte, len("HELLO-FRAME|after"))
	if _, err := io.ReadFull(brw.Reader, got); err != nil || string(got) != "HELLO-FRAME|after" {
		t.Fatalf("read %q, %v; want the read-ahead bytes then the connection's", got, err)
	}
	go func() { _, _ = io.Copy(io.Discard, client) }()
	if _, err := brw.Writer.WriteString(strings.Repeat("x", 3000)); err != nil {
		t.Fatal(err)
	}
	if err := brw.Writer.Flush(); err != nil {
		t.Fatal(err)
	}
}

// More read-ahead than the small buffer holds: the HTTP server's reader is
// kept, so nothing is lost.
func TestSocketBuffersKeepALargeReadAhead(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	ahead := strings.Repeat("y", socketReadBuffer+1)
	go func() { _, _ = io.WriteString(client, "X\n"+ahead) }()
	http := bufio.NewReaderSize(server, 4096)
	if _, err := http.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	for http.Buffered() < len(ahead) {
		if _, err := http.Peek(http.Buffered() + 1); err != nil {
			t.Fatal(err)
		}
	}
	brw := socketBuffers(server, bufio.NewReadWriter(http, bufio.NewWriter(server)))
	if brw.Reader != http {
		t.Fatal("the HTTP reader holding more than the small buffer was replaced")
	}
	got := make([]byte, len(ahead))
	if _, err := io.ReadFull(brw.Reader, got); err != nil || string(got) != ahead {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}
