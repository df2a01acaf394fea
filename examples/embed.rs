// A host program checking the README's example stream through the embedding API: the
// policies, a one-shot check of the file, then the same events pushed one by one into the
// streaming engine, acting on each record as it becomes final.
//
// `cargo run --example embed` (from the repository's top directory).

use pledge::{check_path, Engine, Options, PolicySet, Record};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policies = PolicySet::from_files([
        "policies/customer-requests.pledge",
        "policies/repairs.pledge",
    ])?;

    // One call for a whole file: every record and the summary.
    let report = check_path(
        &policies,
        "examples/service-desk.jsonl",
        &Options::default(),
    )?;
    let summary = report.summary_json();
    println!(
        "{} events, {} cases, {} breached",
        summary["events"], summary["cases"], summary["breached"]
    );

    // The streaming engine: records come back as soon as they are final.
    let mut engine = Engine::new(&policies, &Options::default());
    let mut breached = 0;
    let text = std::fs::read("examples/service-desk.jsonl")?;
    for line in text.split(|&b| b == b'\n') {
        for record in engine.push_json(line) {
            breached += act_on(&record);
        }
    }
    let last = engine.finish();
    for record in &last.records {
        breached += act_on(record);
    }
    assert_eq!(breached, last.summary.breached());
    println!("streamed: {breached} breached");
    Ok(())
}

/// What a host would do with a record: here, print breaches as JSON Lines.
fn act_on(record: &Record) -> u64 {
    match record {
        Record::Verdict(v) if v.status == pledge::Status::Breached => {
            println!("{}", record.to_json());
            1
        }
        _ => 0,
    }
}
