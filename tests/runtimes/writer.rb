# Ruby: $stdout.sync = true, a write a line.  For tests/runtimes.bats and bench/runtimes.sh.
#   ruby writer.rb stdout N       "line#i\n" for i < N on stdout
#   ruby writer.rb file N FILE    the same into FILE (sync), a seek-and-patch of
#                                 its head, N more lines at the end, its times
#                                 set while it is still open; exit 3
mode, n, path = ARGV
n = Integer(n)
if mode == "stdout"
  $stdout.sync = true
  n.times { |i| puts "line##{i}" }
else
  File.open(path, "w") do |f|
    f.sync = true
    n.times { |i| f.puts "line##{i}" }
    f.seek(0)
    f.write("LINE")
    puts "position #{f.pos}"
    f.seek(0, IO::SEEK_END)
    n.times { |i| f.puts "more##{i}" }
    File.utime(Time.at(1_000_000_000), Time.at(1_000_000_000), path)
  end
  exit 3
end
