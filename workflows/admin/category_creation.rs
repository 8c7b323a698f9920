//! 09 `admin-category-creation`: an admin builds a three-level category tree (a parent, two
//! children, a grandchild), decorates it, reorders the children, publishes it and checks the
//! tree fields the server maintains.
//!
//! Decisions:
//! - Names and slugs carry a unique suffix, so parallel and repeated runs build separate
//!   trees; the tree is left in place, as in the seed.
//! - Each write is checked to have stored what it sent. Step 6 asserts the server set
//!   `hasChildren`/`childCount` on the parent (the seed only logged it); step 9 checks the
//!   parent lists its children in their new sort order; step 12 asserts what the seed did:
//!   levels 0/1/2, parent links, `hasChildren`, exactly 2 children, `showOnHomepage`, and
//!   each path extending its parent's path.

use workflow_harness::prelude::*;

use crate::checks::expect_some_each;

use crate::common::*;

workflow! {
    id: "admin-category-creation",
    name: "Admin Category Creation",
    tags: ["admin", "categories"],
    steps: 12,
    run: admin_category_creation,
}

/// `{success, data}` → `data`, checking `success` and that `data` holds all of `sent` (`{}`
/// for a read).
fn data(answer: Value, sent: &Value) -> StepResult<Value> {
    expect_json!(answer, { "success": true, "data": sent })?;
    Ok(answer.at("data")?.clone())
}

async fn get_category(cx: &Ctx, id: &str) -> StepResult<Value> {
    data(
        cx.get_value(&format!("/api/categories/{id}")).await?,
        &json!({}),
    )
}

/// PATCHes a category, checking it stored `body`.
async fn patch_category(cx: &Ctx, id: &str, body: Value) -> StepResult<Value> {
    let path = format!("/api/categories/{id}");
    data(cx.patch_value(&path, &body).await?, &body)
}

/// Creates a category, checking it stored `body`.
async fn create_category(cx: &Ctx, body: Value) -> StepResult<Value> {
    data(cx.post_value("/api/categories", &body).await?, &body)
}

/// The category's path, which must start with `parent_path` followed by `/`.
fn check_path(category: &Value, parent_path: &str) -> StepResult {
    let path = category.str_at("path")?;
    ensure!(
        path.starts_with(&format!("{parent_path}/")),
        "path {path:?} does not extend the parent's {parent_path:?}"
    );
    Ok(())
}

async fn admin_category_creation(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, ADMIN_ID)?;
    let tag = unique("");

    cx.step("Step 1: List Existing Categories", async |cx| {
        let answer = cx.get_value("/api/categories?isActive=true").await?;
        expect_json!(answer, { "success": true })?;
        expect_some_each(answer.array_at("data")?, &json!({ "isActive": true }))
    })
    .await?;

    // Every write below checks the category stored what it sent (a root has no `parentId`).
    let parent: String = cx
        .step("Step 2: Create Parent Category", async |cx| {
            let body = json!({
                "name": format!("Test Category {tag}"),
                "slug": format!("test-category-{tag}"),
                "description": "Parent category created by the admin workflow",
                "parentId": null,
                "sortOrder": 999,
                "isFeatured": false,
                "showOnHomepage": true,
                "isActive": true,
                "commissionRate": 10,
            });
            let category = create_category(cx, body).await?;
            expect_json!(category, { "level": 0 })?;
            Ok(category.id()?)
        })
        .await?;

    cx.step("Step 3: Add Parent Icon/Image", async |cx| {
        let body = json!({
            "icon": "📦",
            "image": format!("https://example.test/categories/{tag}.jpg"),
            "color": "#3B82F6",
        });
        patch_category(cx, &parent, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 4: Set Parent SEO Metadata", async |cx| {
        let current = get_category(cx, &parent).await?;
        let body = json!({
            "metaTitle": format!("{} | Shop Online", current.str_at("name")?),
            "metaDescription": "Browse the test category and its subcategories.",
        });
        patch_category(cx, &parent, body).await?;
        Ok(())
    })
    .await?;

    let child = async |cx: &mut Ctx, which: &str, parent: &str, sort: u32, rate: f64, level| {
        let body = json!({
            "name": format!("Test {which} {tag}"),
            "slug": format!("test-{}-{tag}", which.to_lowercase().replace(' ', "-")),
            "description": format!("{which} created by the admin workflow"),
            "parentId": parent,
            "sortOrder": sort,
            "isFeatured": false,
            "showOnHomepage": false,
            "isActive": true,
            "commissionRate": rate,
        });
        let category = create_category(cx, body).await?;
        expect_json!(category, { "level": level })?;
        StepResult::Ok(category.id()?)
    };

    let child1 = cx
        .step("Step 5: Create First Child Category", async |cx| {
            child(cx, "Child One", &parent, 1, 12.0, 1).await
        })
        .await?;

    cx.step("Step 6: Update Parent hasChildren Flag", async |cx| {
        let category = get_category(cx, &parent).await?;
        Ok(expect_json!(category, { "hasChildren": true, "childCount": 1 })?)
    })
    .await?;

    let child2 = cx
        .step("Step 7: Create Second Child Category", async |cx| {
            child(cx, "Child Two", &parent, 2, 10.0, 1).await
        })
        .await?;

    let grandchild = cx
        .step("Step 8: Create Grandchild (Level 3)", async |cx| {
            child(cx, "Grandchild", &child1, 1, 15.0, 2).await
        })
        .await?;

    cx.step("Step 9: Reorder Category Sort Order", async |cx| {
        patch_category(cx, &child1, json!({ "sortOrder": 2 })).await?;
        patch_category(cx, &child2, json!({ "sortOrder": 1 })).await?;
        let category = get_category(cx, &parent).await?;
        Ok(expect_json!(category, { "childrenIds": [child2, child1] })?)
    })
    .await?;

    cx.step("Step 10: Add Category Attributes & Features", async |cx| {
        let body = json!({ "isFeatured": true, "showOnHomepage": true });
        patch_category(cx, &parent, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Step 11: Publish Category Hierarchy", async |cx| {
        for id in [&parent, &child1, &child2, &grandchild] {
            patch_category(cx, id, json!({ "isActive": true })).await?;
        }
        Ok(())
    })
    .await?;

    cx.step("Step 12: Verify Category Tree & Breadcrumbs", async |cx| {
        let top = get_category(cx, &parent).await?;
        let one = get_category(cx, &child1).await?;
        let leaf = get_category(cx, &grandchild).await?;
        let tree =
            json!({ "level": 0, "hasChildren": true, "childCount": 2, "showOnHomepage": true });
        expect_subset(&top, &tree)?;
        expect_json!(one, { "level": 1, "parentId": parent })?;
        expect_json!(leaf, { "level": 2, "parentId": child1 })?;
        check_path(&one, top.str_at("path")?)?;
        check_path(&leaf, one.str_at("path")?)
    })
    .await
}
