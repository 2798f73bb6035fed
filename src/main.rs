//! `toolkit` binary: parse, build the context, dispatch, exit with the monitoring-plugins status.

fn main() {
    let code = toolkit::run(std::env::args_os());
    std::process::exit(code);
}
