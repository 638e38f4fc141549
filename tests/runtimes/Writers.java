// The JVM's ways of writing a line at a time, for tests/runtimes.bats and
// bench/runtimes.sh.  Every mode writes "line#i\n" for i < N.
//
//   println N            System.out.println (autoflush: one write() a line)
//   printwriter N FILE   PrintWriter(FileWriter) with flush per line; then
//                        sets FILE's mtime while it is still open, and exits 3
//   raf N FILE           RandomAccessFile: a write() a line, then seek and
//                        patch the head, extend, truncate; prints the
//                        positions and lengths the JVM saw
//   spawn N FILE CP      writes N lines to FILE (left open), starts a child
//                        JVM with ProcessBuilder that appends N more, waits,
//                        reads FILE back and prints its size and line count;
//                        exits with the child's status
//   append N FILE        (the child) appends N lines to FILE, exits 5
//   term N FILE          writes N lines to FILE, says "ready" on stdout and
//                        waits to be killed; a shutdown hook writes N more
//                        lines and "last line"
//   proc N               writes a bad value to /proc/self/oom_score_adj and
//                        prints what write and close said (N is unused)
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.nio.file.attribute.FileTime;

public class Writers {
    static PrintWriter lines(String path, boolean append, int from, int n) throws IOException {
        PrintWriter w = new PrintWriter(new FileWriter(path, append), true);
        for (int i = from; i < from + n; i++)
            w.println("line#" + i);
        return w;
    }

    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[1]);
        switch (a[0]) {
        case "println":
            for (int i = 0; i < n; i++)
                System.out.println("line#" + i);
            break;
        case "printwriter": {
            PrintWriter w = lines(a[2], false, 0, n);
            Files.setLastModifiedTime(Paths.get(a[2]), FileTime.fromMillis(1000000000000L));
            w.close();
            System.exit(3);
        }
        case "raf": {
            try (RandomAccessFile f = new RandomAccessFile(a[2], "rw")) {
                for (int i = 0; i < n; i++)
                    f.writeBytes("line#" + i + "\n");
                System.out.println("after lines: pointer " + f.getFilePointer() + " length " + f.length());
                f.seek(0);
                f.writeBytes("LINE");
                System.out.println("after patch: pointer " + f.getFilePointer());
                f.seek(f.length());
                for (int i = 0; i < n; i++)
                    f.writeBytes("tail#" + i + "\n");
                f.setLength(f.length() - 3);
                System.out.println("after truncate: pointer " + f.getFilePointer() + " length " + f.length());
                f.seek(5);
                byte[] back = new byte[8];
                f.readFully(back);
                System.out.println("read back: " + new String(back, StandardCharsets.US_ASCII).replace('\n', '|'));
            }
            break;
        }
        case "spawn": {
            PrintWriter w = lines(a[2], false, 0, n);
            Process p = new ProcessBuilder("java", "-cp", a[3], "Writers", "append", a[1], a[2])
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
            int status = p.waitFor();
            w.close();
            byte[] all = Files.readAllBytes(Paths.get(a[2]));
            int count = 0;
            for (byte b : all)
                if (b == '\n')
                    count++;
            System.out.println("child exited " + status + "; the parent reads " + all.length + " bytes, " + count + " lines");
            System.exit(status);
        }
        case "append":
            lines(a[2], true, n, n).close();
            System.exit(5);
        case "term": {
            PrintWriter w = lines(a[2], false, 0, n);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (int i = n; i < 2 * n; i++)
                    w.println("line#" + i);
                w.println("last line");
            }));
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(600000);
            break;
        }
        case "proc": {
            FileOutputStream o = new FileOutputStream("/proc/self/oom_score_adj");
            try {
                o.write("bogus\n".getBytes(StandardCharsets.US_ASCII));
                System.out.println("write: ok");
            } catch (IOException e) {
                System.out.println("write: " + e.getMessage());
            }
            try {
                o.close();
                System.out.println("close: ok");
            } catch (IOException e) {
                System.out.println("close: " + e.getMessage());
            }
            break;
        }
        default:
            System.err.println("Writers: unknown mode " + a[0]);
            System.exit(2);
        }
    }
}
