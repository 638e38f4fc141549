<?php
// PHP CLI: echo + flush(), fwrite to a file.  For tests/runtimes.bats and bench/runtimes.sh.
//   php writer.php stdout N       "line#i\n" for i < N on stdout, echo + flush() each
//   php writer.php file N FILE    fwrite each line to FILE, a seek-and-patch of its
//                                 head, N more lines at the end, its times set
//                                 while it is still open; exit 3
//   php writer.php fwrite N FILE  only the N lines, fwrite each
$mode = $argv[1];
$n = (int)$argv[2];
if ($mode === "stdout") {
    for ($i = 0; $i < $n; $i++) {
        echo "line#$i\n";
        flush();
    }
} elseif ($mode === "fwrite") {
    $f = fopen($argv[3], "w");
    for ($i = 0; $i < $n; $i++)
        fwrite($f, "line#$i\n");
    fclose($f);
} else {
    $path = $argv[3];
    $f = fopen($path, "w");
    for ($i = 0; $i < $n; $i++)
        fwrite($f, "line#$i\n");
    fseek($f, 0);
    fwrite($f, "LINE");
    echo "position ", ftell($f), "\n";
    fseek($f, 0, SEEK_END);
    for ($i = 0; $i < $n; $i++)
        fwrite($f, "more#$i\n");
    touch($path, 1000000000, 1000000000);
    fclose($f);
    exit(3);
}
