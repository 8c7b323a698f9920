//! 13 `wishlist-favorites` — "Wishlist & Favorites": a fresh user favorites up to four
//! products, checks, lists and counts them, removes one and clears the rest.
//!
//! Decisions:
//! - Seed bug fixed: the seed used one fixed user, so a favorite left by an earlier run (or a
//!   parallel one) made step 3's add a duplicate (400/409) and aborted the workflow. A fresh
//!   user (`as_new_user`) starts with no favorites.
//! - With a fresh user the counts are exact, so the seed's log-only steps became checks: the
//!   list holds exactly our favorites (step 6), the count equals it (step 7), the removed one is
//!   gone (step 8) and the list is empty at the end (step 10; the seed only warned).
//! - Step 5 swallowed every add error in the seed; here an add must succeed unless the product
//!   vanished meanwhile (404: a seller may delete its product), which is tolerated.

use std::collections::BTreeSet;

use crate::common::*;
use workflow_harness::prelude::*;

workflow! {
    id: "wishlist-favorites",
    name: "Wishlist & Favorites",
    tags: ["user", "favorites"],
    steps: 11,
    run: wishlist_favorites,
}

/// `GET /api/favorites` → FavoriteItem[].
async fn favorites(cx: &Ctx) -> StepResult<Vec<Value>> {
    Ok(cx.get_json("/api/favorites").await?)
}

/// The favorite ids in `list`.
fn ids(list: &[Value]) -> StepResult<BTreeSet<String>> {
    Ok(list.iter().map(JsonExt::id).collect::<Result<_, _>>()?)
}

/// `GET /api/favorites/count` → its `count`.
async fn count(cx: &Ctx) -> StepResult<f64> {
    Ok(cx
        .get_value("/api/favorites/count")
        .await?
        .f64_at("count")?)
}

/// Adds `product_id` to the favorites; `None` when the product no longer exists.
async fn add_favorite(cx: &Ctx, product_id: &str) -> StepResult<Option<String>> {
    let response = cx
        .post("/api/favorites")
        .json(&json!({ "productId": product_id }))
        .await?;
    if response.status().as_u16() == 404 {
        return Ok(None);
    }
    let item = response.expect_success()?.json_value()?;
    expect_json!(item, { "productId": product_id })?;
    Ok(Some(item.id()?))
}

async fn wishlist_favorites(cx: &mut Ctx) -> StepResult {
    let me = as_new_user(cx, "customer").await?;

    let product_ids = cx
        .step("Navigate to Products Page", async |cx| {
            let page = cx.get_value("/api/products?page=1&limit=10").await?;
            let ids: Vec<String> = page
                .data()?
                .iter()
                .take(5)
                .map(JsonExt::id)
                .collect::<Result<_, _>>()?;
            ensure!(!ids.is_empty(), "no products");
            Ok(ids)
        })
        .await?;
    let first_product = product_ids[0].as_str();

    cx.step("Browse Product Details", async |cx| {
        let product = cx
            .get_value(&format!("/api/products/{first_product}"))
            .await?;
        Ok(expect_json!(product, { "id": first_product })?)
    })
    .await?;

    let favorite_id = cx
        .step("Add Product to Favorites", async |cx| {
            let body = json!({ "productId": first_product });
            let item = cx.post_value("/api/favorites", &body).await?;
            expect_json!(item, { "productId": first_product, "userId": me.user_id })?;
            Ok(item.id()?)
        })
        .await?;

    cx.step("Verify Favorite Added", async |cx| {
        let answer = cx
            .get_value(&format!("/api/favorites/check/{first_product}"))
            .await?;
        Ok(expect_json!(answer, { "isFavorited": true, "favoriteId": favorite_id })?)
    })
    .await?;

    let more = cx
        .step("Add Multiple Products to Favorites", async |cx| {
            let mut added = Vec::new();
            for id in product_ids.iter().skip(1).take(3) {
                added.extend(add_favorite(cx, id).await?);
            }
            Ok(added)
        })
        .await?;
    let ours: BTreeSet<String> = std::iter::once(favorite_id.clone()).chain(more).collect();

    cx.step("View All Favorites List", async |cx| {
        let have = ids(&favorites(cx).await?)?;
        ensure!(have == ours, "favorites {have:?}, expected {ours:?}");
        Ok(())
    })
    .await?;

    cx.step("Check Favorites Count", async |cx| {
        let (count, want) = (count(cx).await?, ours.len());
        ensure!(
            count == want as f64,
            "count is {count}, we have {want} favorites"
        );
        Ok(())
    })
    .await?;

    cx.step("Remove a Favorite", async |cx| {
        cx.delete(&format!("/api/favorites/{favorite_id}"))
            .await?
            .expect_success()?;
        let have = ids(&favorites(cx).await?)?;
        ensure!(
            !have.contains(&favorite_id),
            "favorite {favorite_id} is still listed"
        );
        Ok(())
    })
    .await?;

    cx.step("Clear Remaining Favorites", async |cx| {
        for fav in favorites(cx).await? {
            cx.delete(&format!("/api/favorites/{}", fav.id()?))
                .await?
                .expect_success()?;
        }
        Ok(())
    })
    .await?;

    cx.step("Cleanup and Verify Empty State", async |cx| {
        let left = favorites(cx).await?;
        ensure!(left.is_empty(), "{} favorites left", left.len());
        let count = count(cx).await?;
        ensure!(count == 0.0, "count is {count}, not 0");
        Ok(())
    })
    .await?;
    Ok(())
}
