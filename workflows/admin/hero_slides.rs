//! 19 `admin-hero-slides`: an admin creates two homepage hero slides, schedules and activates
//! the first, swaps their display order and deletes both again.
//!
//! Decisions:
//! - The seed's 9 steps, plus a deferred cleanup step per slide.
//! - Titles carry a unique suffix; only this run's slides are checked, since the list holds
//!   seeded slides too (and only this workflow writes slides).
//! - Each write is checked to have stored what it sent; step 7 reads both slides back to
//!   check the swapped order; step 8 counts active, inactive and future-dated slides like the
//!   seed and checks both of this run's slides are listed as active.
//! - Step 9 deletes both slides and checks they are gone (the seed swallowed errors). Each
//!   slide also gets a deferred step (`cx.defer`), "Cleanup: Delete Leftover Slide", run once
//!   the workflow ends however it ends: it deletes the slide if an earlier end left it.

use workflow_harness::prelude::*;

use crate::checks::expect_some_each;

use crate::common::*;

workflow! {
    id: "admin-hero-slides",
    name: "Admin Hero Slides Management",
    tags: ["admin", "hero-slides"],
    steps: 11,
    run: admin_hero_slides,
}

const BASE: &str = "/api/admin/hero-slides";

async fn admin_hero_slides(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, ADMIN_ID)?;
    slide_steps(cx).await
}

/// Creates a slide, defers its deletion, and checks the `{slide}` answer holds all of `body`.
async fn create(cx: &Ctx, body: Value) -> StepResult<String> {
    let answer = cx.post_value(BASE, &body).await?;
    let id = answer.str_at("/slide/id")?.to_owned();
    // Step 9 deletes it; if the workflow ends before (a failure, a panic, a timeout) this
    // deferred step does, so no slide is left behind.
    let path = format!("{BASE}/{id}");
    cx.defer("Cleanup: Delete Leftover Slide", async move |cx| {
        crate::checks::delete_if_left(cx, &path).await
    });
    expect_json!(answer, { "slide": body })?;
    Ok(id)
}

async fn slide_steps(cx: &mut Ctx) -> StepResult {
    let tag = unique("");

    cx.step("Navigate to Hero Slides Management", async |cx| {
        cx.get_value(BASE).await?.array_at("slides")?;
        Ok(())
    })
    .await?;

    let first = cx
        .step("Create First Hero Slide", async |cx| {
            let body = json!({
                "title": format!("Test Hero Slide {tag}"),
                "subtitle": "Automated test slide",
                "description": "Created by the admin hero slides workflow",
                "image": format!("https://example.test/hero/{tag}-1.jpg"),
                "mobileImage": format!("https://example.test/hero/{tag}-1-mobile.jpg"),
                "ctaText": "Shop Now",
                "ctaLink": "/products",
                "ctaTarget": "_self",
                "order": 1,
                "isActive": false,
                "backgroundColor": "#1F2937",
                "textColor": "#FFFFFF",
            });
            create(cx, body).await
        })
        .await?;
    let first_path = format!("{BASE}/{first}");

    cx.step("Verify Display Priority", async |cx| {
        let answer = cx.get_value(&first_path).await?;
        Ok(expect_json!(answer, { "slide": { "order": 1 } })?)
    })
    .await?;

    cx.step("Schedule Display Dates", async |cx| {
        let body = json!({ "startDate": iso_in_days(0), "endDate": iso_in_days(30) });
        let answer = cx.patch_value(&first_path, &body).await?;
        Ok(expect_json!(answer, { "slide": body })?)
    })
    .await?;

    cx.step("Activate Hero Slide", async |cx| {
        let answer = cx
            .patch_value(&first_path, &json!({ "isActive": true }))
            .await?;
        Ok(expect_json!(answer, { "slide": { "isActive": true } })?)
    })
    .await?;

    let second = cx
        .step("Create Second Hero Slide", async |cx| {
            let body = json!({
                "title": format!("Test Hero Slide Two {tag}"),
                "subtitle": "New arrivals",
                "image": format!("https://example.test/hero/{tag}-2.jpg"),
                "ctaText": "See What's New",
                "ctaLink": "/products/new",
                "ctaTarget": "_self",
                "order": 2,
                "isActive": true,
            });
            create(cx, body).await
        })
        .await?;
    let second_path = format!("{BASE}/{second}");

    cx.step("Reorder Hero Slides", async |cx| {
        let order =
            json!({ "slides": [{ "id": first, "order": 2 }, { "id": second, "order": 1 }] });
        cx.post(&format!("{BASE}/reorder"))
            .json(&order)
            .await?
            .expect_success()?;
        expect_json!(cx.get_value(&first_path).await?, { "slide": { "order": 2 } })?;
        Ok(expect_json!(cx.get_value(&second_path).await?, { "slide": { "order": 1 } })?)
    })
    .await?;

    cx.step("View All Active Slides", async |cx| {
        let active = cx.get_value(&format!("{BASE}?isActive=true")).await?;
        let all = cx.get_value(BASE).await?;
        // Other runs may add or remove slides between the two reads, so their sizes are not
        // compared; the filter is checked on what it returned and on this run's slides.
        expect_some_each(active.array_at("slides")?, &json!({ "isActive": true }))?;
        for (listing, ids) in [
            ("active", active.ids_at("slides")?),
            ("all", all.ids_at("slides")?),
        ] {
            ensure!(
                ids.contains(&first) && ids.contains(&second),
                "this run's slides {first} and {second} are not both in the {listing} list: {ids:?}"
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Cleanup Test Slides", async |cx| {
        for path in [&first_path, &second_path] {
            cx.delete(path).await?.expect_success()?;
            cx.get(path).await?.expect_status(404)?;
        }
        let left = cx.get_value(BASE).await?.ids_at("slides")?;
        ensure!(
            !left.contains(&first) && !left.contains(&second),
            "deleted slides are still listed"
        );
        Ok(())
    })
    .await
}
