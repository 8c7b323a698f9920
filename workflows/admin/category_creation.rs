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

use crate::checks::{expect_bool, expect_num, expect_str};
use crate::common::*;

workflow! {
    id: "admin-category-creation",
    name: "Admin Category Creation",
    tags: ["admin", "categories"],
    steps: 12,
    run: admin_category_creation,
}

/// `{success, data}` → `data`, checking `success`.
fn unwrap(answer: Value) -> StepResult<Value> {
    ensure!(
        answer["success"] == true,
        "expected success: {}",
        short(&answer)
    );
    Ok(answer.at("data")?.clone())
}

async fn get_category(cx: &Ctx, id: &str) -> StepResult<Value> {
    unwrap(cx.get_json(&format!("/api/categories/{id}")).await?)
}

async fn patch_category(cx: &Ctx, id: &str, body: Value) -> StepResult<Value> {
    unwrap(
        cx.patch_json(&format!("/api/categories/{id}"), &body)
            .await?,
    )
}

async fn create_category(cx: &Ctx, body: Value) -> StepResult<Value> {
    let category = unwrap(cx.post_json("/api/categories", &body).await?)?;
    expect_str(&category, "slug", body.str_at("slug")?)?;
    Ok(category)
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
        let categories = unwrap(cx.get_json("/api/categories?isActive=true").await?)?;
        let list = categories.as_array().context("`data` is not an array")?;
        ensure!(
            list.iter().all(|c| c["isActive"] == true),
            "the active filter returned inactive categories"
        );
        Ok(())
    })
    .await?;

    let parent: String = cx
        .step("Step 2: Create Parent Category", async |cx| {
            let category = create_category(
                cx,
                json!({
                    "name": format!("Test Category {tag}"),
                    "slug": format!("test-category-{tag}"),
                    "description": "Parent category created by the admin workflow",
                    "parentId": null,
                    "sortOrder": 999,
                    "isFeatured": false,
                    "showOnHomepage": true,
                    "isActive": true,
                    "commissionRate": 10,
                }),
            )
            .await?;
            expect_num(&category, "level", 0.0)?;
            ensure!(
                category["parentId"].is_null(),
                "a root category has a parent: {}",
                short(&category)
            );
            Ok(category.id()?)
        })
        .await?;

    cx.step("Step 3: Add Parent Icon/Image", async |cx| {
        let category = patch_category(
            cx,
            &parent,
            json!({
                "icon": "📦",
                "image": format!("https://example.test/categories/{tag}.jpg"),
                "color": "#3B82F6",
            }),
        )
        .await?;
        expect_str(&category, "icon", "📦")?;
        expect_str(&category, "color", "#3B82F6")
    })
    .await?;

    cx.step("Step 4: Set Parent SEO Metadata", async |cx| {
        let current = get_category(cx, &parent).await?;
        let title = format!("{} | Shop Online", current.str_at("name")?);
        let category = patch_category(
            cx,
            &parent,
            json!({
                "metaTitle": title,
                "metaDescription": "Browse the test category and its subcategories.",
            }),
        )
        .await?;
        expect_str(&category, "metaTitle", &title)
    })
    .await?;

    let child = async |cx: &mut Ctx, which: &str, parent: &str, sort: u32, rate: f64| {
        let category = create_category(
            cx,
            json!({
                "name": format!("Test {which} {tag}"),
                "slug": format!("test-{}-{tag}", which.to_lowercase().replace(' ', "-")),
                "description": format!("{which} created by the admin workflow"),
                "parentId": parent,
                "sortOrder": sort,
                "isFeatured": false,
                "showOnHomepage": false,
                "isActive": true,
                "commissionRate": rate,
            }),
        )
        .await?;
        expect_str(&category, "parentId", parent)?;
        StepResult::Ok(category)
    };

    let child1: String = cx
        .step("Step 5: Create First Child Category", async |cx| {
            let category = child(cx, "Child One", &parent, 1, 12.0).await?;
            expect_num(&category, "level", 1.0)?;
            Ok(category.id()?)
        })
        .await?;

    cx.step("Step 6: Update Parent hasChildren Flag", async |cx| {
        let category = get_category(cx, &parent).await?;
        expect_bool(&category, "hasChildren", true)?;
        expect_num(&category, "childCount", 1.0)
    })
    .await?;

    let child2: String = cx
        .step("Step 7: Create Second Child Category", async |cx| {
            let category = child(cx, "Child Two", &parent, 2, 10.0).await?;
            expect_num(&category, "level", 1.0)?;
            Ok(category.id()?)
        })
        .await?;

    let grandchild: String = cx
        .step("Step 8: Create Grandchild (Level 3)", async |cx| {
            let category = child(cx, "Grandchild", &child1, 1, 15.0).await?;
            expect_num(&category, "level", 2.0)?;
            expect_num(&category, "commissionRate", 15.0)?;
            Ok(category.id()?)
        })
        .await?;

    cx.step("Step 9: Reorder Category Sort Order", async |cx| {
        let one = patch_category(cx, &child1, json!({ "sortOrder": 2 })).await?;
        expect_num(&one, "sortOrder", 2.0)?;
        let two = patch_category(cx, &child2, json!({ "sortOrder": 1 })).await?;
        expect_num(&two, "sortOrder", 1.0)?;
        let category = get_category(cx, &parent).await?;
        ensure!(
            category["childrenIds"] == json!([child2, child1]),
            "the children are not in their new order: {}",
            short(&category)
        );
        Ok(())
    })
    .await?;

    cx.step("Step 10: Add Category Attributes & Features", async |cx| {
        let category = patch_category(
            cx,
            &parent,
            json!({ "isFeatured": true, "showOnHomepage": true }),
        )
        .await?;
        expect_bool(&category, "isFeatured", true)?;
        expect_bool(&category, "showOnHomepage", true)
    })
    .await?;

    cx.step("Step 11: Publish Category Hierarchy", async |cx| {
        for id in [&parent, &child1, &child2, &grandchild] {
            let category = patch_category(cx, id, json!({ "isActive": true })).await?;
            expect_bool(&category, "isActive", true)?;
        }
        Ok(())
    })
    .await?;

    cx.step("Step 12: Verify Category Tree & Breadcrumbs", async |cx| {
        let top = get_category(cx, &parent).await?;
        let one = get_category(cx, &child1).await?;
        let leaf = get_category(cx, &grandchild).await?;
        expect_num(&top, "level", 0.0)?;
        expect_bool(&top, "hasChildren", true)?;
        expect_num(&top, "childCount", 2.0)?;
        expect_bool(&top, "showOnHomepage", true)?;
        expect_num(&one, "level", 1.0)?;
        expect_str(&one, "parentId", &parent)?;
        expect_num(&leaf, "level", 2.0)?;
        expect_str(&leaf, "parentId", &child1)?;
        check_path(&one, top.str_at("path")?)?;
        check_path(&leaf, one.str_at("path")?)
    })
    .await
}
