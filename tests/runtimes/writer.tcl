# Tcl: puts + flush, a write() a line.  For tests/runtimes.bats and bench/runtimes.sh.
#   tclsh writer.tcl stdout N        "line#i\n" for i < N on stdout
#   tclsh writer.tcl file N FILE     the same into FILE, a seek-and-patch of its
#                                    head, N more lines at the end, its mtime
#                                    set while it is still open; exit 3
lassign $argv mode n path
if {$mode eq "stdout"} {
    for {set i 0} {$i < $n} {incr i} {
        puts "line#$i"
        flush stdout
    }
} else {
    set f [open $path w]
    for {set i 0} {$i < $n} {incr i} {
        puts $f "line#$i"
        flush $f
    }
    seek $f 0
    puts -nonewline $f "LINE"
    flush $f
    puts "position [tell $f]"
    seek $f 0 end
    for {set i 0} {$i < $n} {incr i} {
        puts $f "more#$i"
        flush $f
    }
    file mtime $path 1000000000
    close $f
    exit 3
}
