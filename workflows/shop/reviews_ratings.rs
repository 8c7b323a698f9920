//! 05 `reviews-ratings` — "Reviews & Ratings Flow": a fresh customer reviews a product, the
//! review is moderated and published, summarised, voted helpful and read by another customer.
//!
//! Decisions:
//! - Fresh customer (`as_new_user`): reviews are one per user and product, so a shared user
//!   could review a product only once across the 20 runs. A fresh user's review is new.
//! - The seed sent every call as the same caller; moderation needs an admin or the product's
//!   seller, so step 6 acts as a freshly registered admin, and steps 9–10 ("Other Customers")
//!   as a second fresh customer (marking one's own review helpful says little).
//! - Steps 2, 6, 8 and 9 were "soft": optional here.
//! - Checks added where the seed only logged: eligibility says `canReview`, the pending list
//!   shows our review (unless a moderator approved it meanwhile), after approval the
//!   published list shows it (every page is searched, not just the first 10), the summary
//!   counts it, the helpful vote counts, and the review read back is ours. Nothing asserts
//!   exact counts that other reviewers of the same product could change.

use crate::common::*;
use workflow_harness::prelude::*;

workflow! {
    id: "reviews-ratings",
    name: "Reviews & Ratings Flow",
    tags: ["shop", "reviews"],
    steps: 12,
    run: reviews_ratings,
}

const RATING: u8 = 5;

/// Whether review `id` is in the list `GET /api/reviews?{query}` (paginated; every page is
/// read). Every listed review must also satisfy `check`.
async fn review_listed(
    cx: &Ctx,
    query: &str,
    id: &str,
    check: impl Fn(&Value) -> StepResult,
) -> StepResult<bool> {
    let mut found = false;
    for page in 1.. {
        let list: Value = cx
            .get_json(&format!("/api/reviews?{query}&page={page}"))
            .await?;
        for r in list.data()? {
            check(r)?;
            found |= r["id"] == id;
        }
        if found || list["pagination"]["hasNext"] != true {
            break;
        }
    }
    Ok(found)
}

async fn reviews_ratings(cx: &mut Ctx) -> StepResult {
    let customer = as_new_user(cx, "customer").await?;
    let admin = register(cx, "admin").await?;
    let other = register(cx, "customer").await?;

    let product: Value = cx
        .step("Select Product for Review", async |cx| {
            let page: Value = cx
                .get_json("/api/products?status=published&limit=10&page=1")
                .await?;
            Ok(page
                .data()?
                .first()
                .context("no published products")?
                .clone())
        })
        .await?;
    let product_id = product.id()?;
    let product_id = product_id.as_str();

    cx.optional_step("Check Review Eligibility", async |cx| {
        let answer: Value = cx
            .get_json(&format!("/api/reviews/can-review?productId={product_id}"))
            .await?;
        ensure!(
            answer.bool_at("canReview")?,
            "cannot review: {}",
            short(&answer)
        );
        Ok(())
    })
    .await;

    let comment = format!(
        "Excellent product, works as described. Review {}",
        unique("")
    );
    let review: Value = cx
        .step("Submit Product Review", async |cx| {
            let review: Value = cx
                .post_json(
                    "/api/reviews",
                    &json!({
                        "productId": product_id,
                        "rating": RATING,
                        "title": "Great purchase",
                        "comment": comment,
                        "media": [],
                    }),
                )
                .await?;
            review.id()?;
            ensure!(
                review["productId"] == product_id && review["userId"] == customer.user_id.as_str(),
                "the review is not ours for {product_id}: {}",
                short(&review)
            );
            Ok(review)
        })
        .await?;
    let review_id = review.id()?;
    let review_id = review_id.as_str();

    cx.step("View Pending Review", async |cx| {
        let fetched: Value = cx.get_json(&format!("/api/reviews/{review_id}")).await?;
        ensure!(
            fetched["id"] == review_id,
            "fetched another review: {}",
            short(&fetched)
        );
        ensure!(
            fetched["comment"] == comment.as_str(),
            "the comment changed: {}",
            short(&fetched)
        );
        Ok(())
    })
    .await?;

    cx.step("Shop Owner Views New Review", async |cx| {
        let query = format!("productId={product_id}&isApproved=false&limit=10");
        let listed = review_listed(cx, &query, review_id, |r| {
            ensure!(
                r["productId"] == product_id && r["isApproved"] == false,
                "the pending list holds {}",
                short(r)
            );
            Ok(())
        })
        .await?;
        if !listed {
            // Only acceptable if a moderator approved it in the meantime.
            let now: Value = cx.get_json(&format!("/api/reviews/{review_id}")).await?;
            ensure!(
                now["isApproved"] == true,
                "our pending review is not in the pending list"
            );
        }
        Ok(())
    })
    .await?;

    let approved: Option<()> = cx
        .optional_step("Approve Review", async |cx| {
            act_as(cx, &admin)?;
            let result = cx
                .patch_json::<Value, _>(
                    &format!("/api/reviews/{review_id}/moderate"),
                    &json!({ "isApproved": true, "moderationNotes": "Approved by the workflow" }),
                )
                .await;
            act_as(cx, &customer)?;
            let moderated = result?;
            ensure!(
                moderated["isApproved"] == true,
                "not approved: {}",
                short(&moderated)
            );
            ensure!(
                moderated["moderatedBy"] == admin.user_id.as_str(),
                "moderated by someone else: {}",
                short(&moderated)
            );
            Ok(())
        })
        .await;

    cx.step("View Published Review", async |cx| {
        let query = format!("productId={product_id}&isApproved=true&limit=10");
        let visible = review_listed(cx, &query, review_id, |r| {
            ensure!(
                r["productId"] == product_id && r["isApproved"] == true,
                "the published list holds {}",
                short(r)
            );
            Ok(())
        })
        .await?;
        if approved.is_some() {
            ensure!(visible, "the approved review is not published");
        }
        Ok(visible)
    })
    .await?;

    let summary: Option<Value> = cx
        .optional_step("View Product Review Summary", async |cx| {
            let summary: Value = cx
                .get_json(&format!("/api/reviews/summary?productId={product_id}"))
                .await?;
            let total = summary.f64_at("totalReviews")?;
            let average = summary.f64_at("averageRating")?;
            if approved.is_some() {
                ensure!(
                    total >= 1.0,
                    "the summary counts no review: {}",
                    short(&summary)
                );
                let fives = summary.f64_at(&format!("ratingDistribution.{RATING}"))?;
                ensure!(
                    fives >= 1.0,
                    "no {RATING}-star review counted: {}",
                    short(&summary)
                );
            }
            if total >= 1.0 {
                ensure!(
                    (1.0..=5.0).contains(&average),
                    "average rating {average} is out of range"
                );
            }
            Ok(summary)
        })
        .await;

    cx.optional_step("Mark Review as Helpful", async |cx| {
        act_as(cx, &other)?;
        let result = cx
            .post_json::<Value, _>(&format!("/api/reviews/{review_id}/helpful"), &json!({}))
            .await;
        act_as(cx, &customer)?;
        let answer = result?;
        let count = answer.f64_at("helpfulCount")?;
        ensure!(count >= 1.0, "helpfulCount is {count} after our vote");
        Ok(())
    })
    .await;

    cx.step("Other Customers View Review", async |cx| {
        act_as(cx, &other)?;
        let result = cx
            .get_json::<Value>(&format!("/api/reviews/{review_id}"))
            .await;
        act_as(cx, &customer)?;
        let seen = result?;
        let text = seen.str_at("comment")?;
        ensure!(text == comment, "another customer sees comment {text:?}");
        Ok(())
    })
    .await?;

    cx.step("Update Product Rating (Simulated)", async |_| {
        let average = summary
            .as_ref()
            .and_then(|s| s["averageRating"].as_f64())
            .unwrap_or(f64::from(RATING));
        Ok(json!({ "productId": product_id, "rating": average }))
    })
    .await?;

    cx.step("Review Notification Email (Simulated)", async |_| {
        let rating = review.f64_at("rating")?;
        ensure!(
            rating == f64::from(RATING),
            "the review has rating {rating}"
        );
        Ok(format!(
            "New {rating}-star review on {}",
            product.str_at("name")?
        ))
    })
    .await?;
    Ok(())
}
