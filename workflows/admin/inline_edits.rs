//! 11 `admin-inline-edits`: an admin pulls the bulk-edit queues — pending orders, unapproved
//! reviews, open support tickets — and plans inline edits on them.
//!
//! Decisions:
//! - As in the seed, the only HTTP calls are reads (plus, in step 1, who the caller is); the
//!   bulk edits stay simulated. They must: these queues are shared with every other
//!   workflow, and editing other workflows' orders or reviews would break them.
//! - The queues hold whatever parallel workflows and earlier runs left, so the checks hold
//!   for any content: each list is paginated, respects its limit, and every item matches the
//!   filter (pending orders, unapproved reviews with an integer 1–5 rating and a comment,
//!   open tickets). No queue may be empty: the seed data holds pending orders, unapproved
//!   reviews and open tickets that no workflow consumes (workflow 01 adds pending orders on
//!   every run), so an empty queue is a broken list, not a quiet day.
//! - Step 1 asks the server who the token belongs to and checks it is an admin (the seed only
//!   slept). The simulated steps check their own plans add up (every fetched item gets
//!   exactly one decision; 70 % of reviews, rounded up, approved).

use workflow_harness::prelude::*;

use crate::checks::expect_some_each;
use crate::common::*;

workflow! {
    id: "admin-inline-edits",
    name: "Admin Inline Edits",
    tags: ["admin"],
    steps: 14,
    run: admin_inline_edits,
}

const AGENTS: [&str; 3] = ["agent-001", "agent-002", "agent-003"];

/// The ids of a paginated list's items, checking it respects `limit` and every item has a
/// string `id` and matches `filter` (as `expect_json!` matches).
fn items(list: &Value, limit: usize, filter: Value) -> StepResult<Vec<String>> {
    list.at("pagination")?;
    let data = list.data()?;
    ensure!(data.len() <= limit, "asked for {limit}, got {}", data.len());
    expect_some_each(data, &filter)?;
    Ok(list.ids_at("data")?)
}

/// A simulated bulk edit: `action` for each of the first `n` of `ids`.
fn plan<'a>(ids: &[String], n: usize, action: &'a str) -> Vec<(String, &'a str)> {
    ids.iter().take(n).map(|id| (id.clone(), action)).collect()
}

async fn admin_inline_edits(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, ADMIN_ID)?;

    cx.step("Step 1: Verify Admin Authentication", async |cx| {
        let me = cx.get_value("/api/auth/me").await?;
        Ok(expect_json!(me, { "user": { "role": "admin" } })?)
    })
    .await?;

    let orders = cx
        .step("Step 2: Fetch Pending Orders (Bulk)", async |cx| {
            let list = cx
                .get_value("/api/orders?status=pending&limit=10&sortBy=createdAt&sortOrder=desc")
                .await?;
            items(&list, 10, json!({ "status": "pending" }))
        })
        .await?;

    let order_edits: Vec<(String, &str)> = cx
        .step(
            "Step 3: Update Order Statuses (Bulk Inline Edits)",
            async |_| {
                // Simulated: the plan a bulk edit would send for up to 5 orders.
                Ok(plan(&orders, 5, "confirmed"))
            },
        )
        .await?;

    cx.step("Step 4: Verify Order Updates", async |_| {
        ensure!(
            order_edits.len() == orders.len().min(5),
            "{} edits planned for {} orders",
            order_edits.len(),
            orders.len()
        );
        Ok(())
    })
    .await?;

    let reviews = cx
        .step("Step 5: Fetch Pending Reviews (Bulk)", async |cx| {
            let list = cx
                .get_value("/api/reviews?isApproved=false&limit=15&sortBy=createdAt&sortOrder=desc")
                .await?;
            let reviews = items(&list, 15, json!({ "isApproved": false }))?;
            for review in list.data()? {
                let rating = review.at("rating")?.as_u64();
                ensure!(
                    rating.is_some_and(|r| (1..=5).contains(&r)),
                    "a rating is not an integer from 1 to 5: {}",
                    short(review)
                );
                review.str_at("comment")?;
            }
            Ok(reviews)
        })
        .await?;

    let to_approve = reviews.len() * 7 / 10 + usize::from(reviews.len() * 7 % 10 != 0);
    let approved: Vec<String> = cx
        .step("Step 6: Approve Reviews (Bulk Inline)", async |_| {
            // Simulated: approves ceil(70 %) of the queue.
            Ok(reviews[..to_approve].to_vec())
        })
        .await?;

    let rejected: Vec<String> = cx
        .step("Step 7: Reject Spam Reviews (Bulk Inline)", async |_| {
            // Simulated: rejects the rest.
            Ok(reviews[to_approve..].to_vec())
        })
        .await?;

    cx.step("Step 8: Verify Review Moderation", async |_| {
        ensure!(
            approved.len() + rejected.len() == reviews.len()
                && approved.iter().all(|id| !rejected.contains(id)),
            "every review needs exactly one decision"
        );
        Ok(())
    })
    .await?;

    let tickets = cx
        .step("Step 9: Fetch Open Support Tickets (Bulk)", async |cx| {
            let list = cx
                .get_value("/api/support/tickets?status=open&limit=20")
                .await?;
            items(&list, 20, json!({ "status": "open" }))
        })
        .await?;

    let assignments: Vec<(String, &str)> = cx
        .step(
            "Step 10: Assign Tickets to Agents (Bulk Inline)",
            async |_| {
                // Simulated: round-robin over three agents, up to 10 tickets.
                let agents = AGENTS.iter().cycle();
                Ok(tickets
                    .iter()
                    .take(10)
                    .cloned()
                    .zip(agents.copied())
                    .collect())
            },
        )
        .await?;

    let priorities: Vec<(String, &str)> = cx
        .step(
            "Step 11: Update Ticket Priorities (Bulk Inline)",
            async |_| {
                // Simulated: raises up to 5 tickets to high priority.
                Ok(plan(&tickets, 5, "high"))
            },
        )
        .await?;

    cx.step("Step 12: Verify Ticket Assignments", async |_| {
        ensure!(
            assignments.len() == tickets.len().min(10)
                && assignments.iter().all(|(_, a)| AGENTS.contains(a)),
            "the assignments do not cover the tickets"
        );
        ensure!(priorities.len() == tickets.len().min(5));
        Ok(())
    })
    .await?;

    let edits = order_edits.len() + approved.len() + rejected.len() + assignments.len();
    cx.step("Step 13: Generate Admin Audit Trail", async |_| {
        let entry = |entity, id, action| json!({ "entity": entity, "id": id, "action": action });
        let trail: Vec<Value> = order_edits
            .iter()
            .map(|(id, to)| entry("order", id, *to))
            .chain(approved.iter().map(|id| entry("review", id, "approve")))
            .chain(rejected.iter().map(|id| entry("review", id, "reject")))
            .chain(assignments.iter().map(|(id, a)| entry("ticket", id, *a)))
            .collect();
        ensure!(trail.len() == edits, "the audit trail misses edits");
        Ok(())
    })
    .await?;

    cx.step("Step 14: Generate Performance Summary", async |_| {
        let summary = json!({
            "ordersFetched": orders.len(),
            "reviewsFetched": reviews.len(),
            "ticketsFetched": tickets.len(),
            "edits": edits,
        });
        Ok(expect_json!(summary, { "edits": edits })?)
    })
    .await
}
