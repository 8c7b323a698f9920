//! `report.json`: the seed's `ParallelExecutionResult` schema plus a few extra fields.

use super::RunReport;

pub(super) fn to_json(report: &RunReport) -> String {
    // The model holds only strings, numbers, lists and structs: serializing it cannot fail.
    serde_json::to_string_pretty(report).expect("a RunReport always serializes to JSON")
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use serde_json::Value;

    #[test]
    fn json_keeps_the_seed_field_names() {
        let v: Value = serde_json::from_str(&sample().to_json()).unwrap();
        for key in [
            "totalWorkflows",
            "completed",
            "failed",
            "totalDuration",
            "workflows",
            "aggregateStats",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let w = &v["workflows"][1];
        for key in [
            "workflowId",
            "workflowName",
            "status",
            "progress",
            "currentStep",
            "startTime",
            "endTime",
            "duration",
            "error",
            "result",
        ] {
            assert!(w.get(key).is_some(), "missing workflows[].{key}");
        }
        assert_eq!(w["status"], "failed");
        assert_eq!(w["duration"], 30);
        assert_eq!(w["result"]["steps"][1]["status"], "failed");
        assert_eq!(v["aggregateStats"]["successRate"], 60.0);
        assert_eq!(v["totalDuration"], 42);
    }

    #[test]
    fn json_names_its_run() {
        let mut report = sample();
        report.interrupted = true;
        let v: Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(v["runId"], "run-42");
        assert_eq!(v["interrupted"], true);
        assert_eq!(v["startTime"], 0);
    }

    #[test]
    fn json_without_the_run_fields_still_reads() {
        let mut v: Value = serde_json::from_str(&sample().to_json()).unwrap();
        let map = v.as_object_mut().unwrap();
        map.remove("runId");
        map.remove("interrupted");
        let back: super::RunReport = serde_json::from_value(v).unwrap();
        assert_eq!((back.run_id.as_str(), back.interrupted), ("", false));
    }

    #[test]
    fn json_round_trips() {
        let report = sample();
        let back: super::RunReport = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(back, report);
    }
}
