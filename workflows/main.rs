fn main() -> std::process::ExitCode {
    workflow_harness::main()
}
