//! Prints the Cedar policy set generated for the published rules (`cargo run -p
//! kiban-benches --example cedar_policy`), for reading what the peer is given.
#![allow(clippy::print_stdout, reason = "an example that prints the policy")]

fn main() {
    print!(
        "{}",
        kiban_benches::engines::cedar::policy_text(&kiban_core::rules::Rules::published())
    );
}
