# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_toolkit_global_optspecs
    string join \n root= format= json output= color= q/quiet yes dry-run h/help V/version
end

function __fish_toolkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_toolkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_toolkit_using_subcommand
    set -l cmd (__fish_toolkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c toolkit -n "__fish_toolkit_needs_command" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_needs_command" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_needs_command" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_needs_command" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_needs_command" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_needs_command" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_needs_command" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_needs_command" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_needs_command" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_needs_command" -f -a "zombies" -d 'Zombie processes grouped by the parent that is not reaping them, why, and what to restart'
complete -c toolkit -n "__fish_toolkit_needs_command" -f -a "mem" -d 'Memory and swap: a verdict that explains itself'
complete -c toolkit -n "__fish_toolkit_needs_command" -f -a "mqueue" -d 'Mail queues: sendmail\'s per site (how big, what is oversized and why it is stuck, whether queued mail counts against the site\'s quota), Exim\'s and Postfix\'s per hosting account'
complete -c toolkit -n "__fish_toolkit_needs_command" -f -a "check" -d 'Runs every read-only check and prints one combined verdict, worst first'
complete -c toolkit -n "__fish_toolkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l min-age -d 'Zombies younger than this are only counted, as transient' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l parent -d 'Only zombies of this parent' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -s w -l warning -d 'Warning range on the number of zombies at least --min-age old (Nagios range syntax)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -s c -l critical -d 'Critical range on the number of zombies at least --min-age old' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l all -d 'Show the D-state and traced sections even when empty'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l reap -d 'Gentle steps: resume stopped parents, then send SIGCHLD to those with a handler; after each, re-read and report which zombies were cleared'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l restart -d 'After the gentle steps, offer (each confirmed) to restart the owning service of each parent still holding zombies, or to end the parent alone where a restart would leave it running'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand zombies" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -f -a "verdict" -d 'OK, WARNING or CRITICAL for memory and swap, with the reasons, the top consumers and what to do'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -f -a "record" -d 'Appends samples of the system memory and of the largest processes to the history file'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -f -a "report" -d 'Draws the recorded history: memory used, used minus buffers/cache and swap used over time, and RSS and VSIZE for each process that went above 10% of RAM'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -f -a "fence" -d 'Fences a process in with a memory limit, on whatever kind of host this is'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and not __fish_seen_subcommand_from verdict record report fence help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l interval -d 'Time between the two readings for swap, scan and fault rates and process growth (0: one reading)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l top -d 'How many of the largest processes to list (every process above 10% of RAM is listed anyway)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l history -d 'History recorded by `mem record` [default: ROOT/var/lib/toolkit/mem-history.jsonl; none is fine]' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l leak-warn -d 'Warn when a leak suspect would exhaust available memory within DURATION' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l leak-crit -d 'Critical when a leak suspect would exhaust available memory within DURATION' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -s w -l warning -d 'Warning range on available memory, percent of RAM' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -s c -l critical -d 'Critical range on available memory, percent of RAM' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l swap-out-warning -d 'Warning range on pages swapped out per second over the interval' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l swap-out-critical -d 'Critical range on pages swapped out per second over the interval' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l psi-warning -d 'Warning range on PSI memory full avg10, percent' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l psi-critical -d 'Critical range on PSI memory full avg10, percent' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l swap-used-warning -d 'Warning range on swap used, percent of swap' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l unreclaimable-warning -d 'Warning range on unreclaimable slab (SUnreclaim), percent of RAM' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l commit-warning -d 'Warning range on Committed_AS, percent of CommitLimit' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from verdict" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l every -d 'Sample every DURATION (default 10s when only --for is given)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l for -d 'Stop after DURATION (without it, --every samples until killed)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l history -d 'History file [default: ROOT/var/lib/toolkit/mem-history.jsonl]' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from record" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l history -d 'History file [default: ROOT/var/lib/toolkit/mem-history.jsonl]' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l svg -d 'Also write the charts as an SVG document to FILE (`-`: the SVG alone, on stdout)' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from report" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l high -d 'Soft limit: above it the kernel reclaims from the process, slowing it (MemoryHigh)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l max -d 'Hard limit: above it the OOM killer acts inside the fence only (MemoryMax)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l undo -d 'Lift the fences recorded for PID, restoring the previous limits and cgroup'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from fence" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from help" -f -a "verdict" -d 'OK, WARNING or CRITICAL for memory and swap, with the reasons, the top consumers and what to do'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from help" -f -a "record" -d 'Appends samples of the system memory and of the largest processes to the history file'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from help" -f -a "report" -d 'Draws the recorded history: memory used, used minus buffers/cache and swap used over time, and RSS and VSIZE for each process that went above 10% of RAM'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from help" -f -a "fence" -d 'Fences a process in with a memory limit, on whatever kind of host this is'
complete -c toolkit -n "__fish_toolkit_using_subcommand mem; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -f -a "scan" -d 'Every queue\'s size, its oversized mail and why it is stuck, and whether it counts against the site\'s quota'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -f -a "fix" -d 'Binds each site\'s mail queue to the site\'s own disk quota, safely and undoably'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -f -a "purge" -d 'Removes oversized queued messages of a site: whole messages only (qf, df and xf together), never one that sendmail holds locked'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and not __fish_seen_subcommand_from scan fix purge help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l min -d 'Messages at least this large are oversized (20M = 20 MiB, 20MB = 20,000,000 bytes)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l top -d 'How many oversized messages (groups of identical copies count once) to list, and queues to show in text' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l site -d 'Only this site: siteN, one of its domains or its adminN user (repeatable; host queues are skipped)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l spool -d 'Also scan this queue directory under the root, or every directory matching a glob (* and ?): a sendmail queue, an Exim spool (holding input/) or a Postfix queue (holding maildrop/ or deferred/) (repeatable)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -s w -l warning -d 'Warning range on the largest queue\'s apparent size (Nagios range syntax, sizes like 1G allowed)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -s c -l critical -d 'Critical range on the largest queue\'s apparent size' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l spool-only -d 'Scan only the --spool queues, instead of adding them to the site and host queues'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from scan" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l site -d 'Site to fix: siteN, one of its domains or its adminN user (repeatable)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l owner -d 'Owner of the queue directory (its group is always the site\'s): root (what a root-run sendmail can queue in) or admin (adminN, for a sendmail that runs as the site\'s user)' -r -f -a "root\t'root:adminN (the default): a root-run sendmail can queue in it'
admin\t'adminN:adminN: only for a sendmail that runs as the site\'s user (a root-run one cannot queue)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l mode -d 'Queue directory mode, octal; must keep setgid and group rwx (2777 is accepted with a warning: it lets every local user delete queued mail)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l all -d 'Every site whose etc/mail/local-host-names is not empty'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l m4 -d 'Regenerate sendmail.cf from the edited sendmail.mc with m4 (run as the site admin, chrooted) instead of editing the cf'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l chgrp-queued -d 'Also give mail already queued the site\'s group, so it counts against the quota'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l undo -d 'Restore what earlier fixes of these sites changed (owners, modes, contents)'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l force -d 'With --undo: also restore a file edited since the fix, after keeping its current content as NAME.zundo-YYYYMMDD-HHMMSS beside it'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from fix" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l site -d 'Site whose queue to purge: siteN, one of its domains or its adminN user (repeatable)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l account -d 'Hosting account whose Exim or Postfix mail to purge: its Unix user name (repeatable)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l min -d 'Only messages at least this large' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l older -d 'Only messages queued at least this long ago (qf T line)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l sender -d 'Only messages from this sender (an address, or @domain)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l quarantine -d 'Quarantine directory under the root (opened without following links; refused under home/virtual, outside the root, or writable by anyone but root)' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l hold -d 'Freeze (Exim) or hold (Postfix) the messages instead of removing them (with --account)'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l delete -d 'Delete instead of quarantining'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from purge" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from help" -f -a "scan" -d 'Every queue\'s size, its oversized mail and why it is stuck, and whether it counts against the site\'s quota'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from help" -f -a "fix" -d 'Binds each site\'s mail queue to the site\'s own disk quota, safely and undoably'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from help" -f -a "purge" -d 'Removes oversized queued messages of a site: whole messages only (qf, df and xf together), never one that sendmail holds locked'
complete -c toolkit -n "__fish_toolkit_using_subcommand mqueue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l timeout -d 'A check still running after DURATION is abandoned and UNKNOWN (under Icinga\'s 10s)' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l zombies-warning -d 'zombies: warning range on zombies at least --zombies-min-age old [default: 0]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l zombies-critical -d 'zombies: critical range on zombies at least --zombies-min-age old [default: 49]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l zombies-min-age -d 'zombies: younger zombies are only counted, as transient [default: 60s]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mqueue-warning -d 'mqueue: warning range on the largest queue\'s apparent size [default: 1G]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mqueue-critical -d 'mqueue: critical range on the largest queue\'s apparent size [default: 10G]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mqueue-min -d 'mqueue: messages at least this large are oversized [default: 20M]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mem-available-warning -d 'mem: warning range on available memory, percent of RAM [default: 20:]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mem-available-critical -d 'mem: critical range on available memory, percent of RAM [default: 10:]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mem-swap-out-warning -d 'mem: warning range on pages swapped out per second [default: 0]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mem-swap-out-critical -d 'mem: critical range on pages swapped out per second [default: 10]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l mem-interval -d 'mem: time between the two readings for the rates (0: one reading) [default: 1s]' -r
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l root -d 'Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l format -d 'Output format' -r -f -a "text\t'For a person at a terminal'
json\t'One JSON document: sizes in bytes, durations in seconds, timestamps in Unix seconds'
nagios\t'Monitoring-plugins status line with perfdata'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'"
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l output -d 'Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a reader (node_exporter\'s textfile collector) never sees half a file; on failure the failure document (e.g. `toolkit_up 0`) is what lands' -r -F
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l color -d 'Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l json -d 'Shorthand for --format json'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -s q -l quiet -d 'No progress bar or spinner'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l yes -d 'Apply changes without asking for confirmation'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -l dry-run -d 'Show what would be changed, change nothing'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolkit -n "__fish_toolkit_using_subcommand check" -s V -l version -d 'Print version'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and not __fish_seen_subcommand_from zombies mem mqueue check help" -f -a "zombies" -d 'Zombie processes grouped by the parent that is not reaping them, why, and what to restart'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and not __fish_seen_subcommand_from zombies mem mqueue check help" -f -a "mem" -d 'Memory and swap: a verdict that explains itself'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and not __fish_seen_subcommand_from zombies mem mqueue check help" -f -a "mqueue" -d 'Mail queues: sendmail\'s per site (how big, what is oversized and why it is stuck, whether queued mail counts against the site\'s quota), Exim\'s and Postfix\'s per hosting account'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and not __fish_seen_subcommand_from zombies mem mqueue check help" -f -a "check" -d 'Runs every read-only check and prints one combined verdict, worst first'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and not __fish_seen_subcommand_from zombies mem mqueue check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mem" -f -a "verdict" -d 'OK, WARNING or CRITICAL for memory and swap, with the reasons, the top consumers and what to do'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mem" -f -a "record" -d 'Appends samples of the system memory and of the largest processes to the history file'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mem" -f -a "report" -d 'Draws the recorded history: memory used, used minus buffers/cache and swap used over time, and RSS and VSIZE for each process that went above 10% of RAM'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mem" -f -a "fence" -d 'Fences a process in with a memory limit, on whatever kind of host this is'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mqueue" -f -a "scan" -d 'Every queue\'s size, its oversized mail and why it is stuck, and whether it counts against the site\'s quota'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mqueue" -f -a "fix" -d 'Binds each site\'s mail queue to the site\'s own disk quota, safely and undoably'
complete -c toolkit -n "__fish_toolkit_using_subcommand help; and __fish_seen_subcommand_from mqueue" -f -a "purge" -d 'Removes oversized queued messages of a site: whole messages only (qf, df and xf together), never one that sendmail holds locked'
