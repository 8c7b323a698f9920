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
//!   open tickets). An empty queue is fine.
//! - Step 1 asks the server who the token belongs to and checks it is an admin (the seed only
//!   slept). The simulated steps check their own plans add up (every fetched item gets
//!   exactly one decision; 70 % of reviews, rounded up, approved).

use workflow_harness::prelude::*;

use crate::common::*;

workflow! {
    id: "admin-inline-edits",
    name: "Admin Inline Edits",
    tags: ["admin"],
    steps: 14,
    run: admin_inline_edits,
}

const AGENTS: [&str; 3] = ["agent-001", "agent-002", "agent-003"];

/// The `data` of a paginated list, checking it respects `limit`, every item has a string `id`
/// and matches `filter` (as `expect_json!` matches).
fn items(list: &Value, limit: usize, filter: Value) -> StepResult<Vec<Value>> {
    list.at("pagination")?;
    let data = list.data()?;
    ensure!(data.len() <= limit, "asked for {limit}, got {}", data.len());
    list.ids_at("data")?;
    expect_each(data, &filter)?;
    Ok(data.clone())
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
                orders
                    .iter()
                    .take(5)
                    .map(|o| Ok((o.id()?, "confirmed")))
                    .collect()
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
            for review in &reviews {
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
            Ok(reviews
                .iter()
                .take(to_approve)
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?)
        })
        .await?;

    let rejected: Vec<String> = cx
        .step("Step 7: Reject Spam Reviews (Bulk Inline)", async |_| {
            // Simulated: rejects the rest.
            Ok(reviews
                .iter()
                .skip(to_approve)
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?)
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
                tickets
                    .iter()
                    .take(10)
                    .enumerate()
                    .map(|(i, t)| Ok((t.id()?, AGENTS[i % AGENTS.len()])))
                    .collect()
            },
        )
        .await?;

    let priorities: Vec<(String, &str)> = cx
        .step(
            "Step 11: Update Ticket Priorities (Bulk Inline)",
            async |_| {
                // Simulated: raises up to 5 tickets to high priority.
                tickets
                    .iter()
                    .take(5)
                    .map(|t| Ok((t.id()?, "high")))
                    .collect()
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
        let trail: Vec<Value> = order_edits
            .iter()
            .map(|(id, to)| json!({ "entity": "order", "id": id, "action": to }))
            .chain(
                approved
                    .iter()
                    .map(|id| json!({ "entity": "review", "id": id, "action": "approve" })),
            )
            .chain(
                rejected
                    .iter()
                    .map(|id| json!({ "entity": "review", "id": id, "action": "reject" })),
            )
            .chain(
                assignments
                    .iter()
                    .map(|(id, a)| json!({ "entity": "ticket", "id": id, "action": a })),
            )
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
        ensure!(summary["edits"] == edits);
        Ok(())
    })
    .await
}
