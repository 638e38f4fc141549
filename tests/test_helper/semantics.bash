# Shared setup for the semantics suites (differential, semantics, errors,
# threads, signals).  Loaded after common.bash, whose same_as_plain does the
# comparing.
#
#   agree HELPER SCENARIO   the scenario prints the same (stdout and stderr)
#                    and leaves the same files plainly and under the library,
#                    timer off, with default buffers and with 8-byte ones

# No core files in scratch directories: several tests die by signals on purpose.
ulimit -c 0

# Under the library every program that writes has a second thread (the
# flusher), so a forked child that writes starts a thread after a
# multi-threaded fork, which ThreadSanitizer refuses by default.
if [[ $SANITIZER == thread ]]; then
    export TSAN_OPTIONS=$TSAN_OPTIONS:die_after_fork=0
fi

# agree HELPER SCENARIO: the scenario prints the same and leaves the same
# files plainly and under the library, with default buffers and with 8-byte
# ones (most writes then go straight through, behind buffered ones).
agree() {
    local h=$1 sc=$2
    same_as_plain --name "$sc" --no-timer --compare +stderr -- "$(helper "$h")" "$sc" &&
        same_as_plain --name "$sc.small" --no-timer --bufsize 8 --compare +stderr -- "$(helper "$h")" "$sc"
}
