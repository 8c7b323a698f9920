//! 06 `advanced-browsing` — "Advanced Browsing Flow": public catalogue reads (sorting,
//! filtering, search, shops, categories, similar and featured products) ending with a fresh
//! customer adding a product from the category page to its cart.
//!
//! Decisions:
//! - Fresh customer (`as_new_user`) for the cart; the reads are public.
//! - Steps 3 (View Similar Products) and 15 (View Featured Products) were "soft" in the seed,
//!   whose backend lacked them; the marketplace has both, so they are required.
//! - Step 8 (Navigate Breadcrumbs) was local in the seed and stays local (a fixed
//!   Home > Products > Electronics trail).
//! - Step 13 sent the variant picked in step 2 with a product picked in step 7, which only
//!   worked by accident (a product without variants ignores it). It now sends that variant
//!   only when the category product has it, else that product's own first variant, else none.
//! - Checks added where the seed only logged: sort orders hold (createdAt descending, price
//!   ascending), filters hold (shop, verified, price range, featured, search term), similar
//!   products share the category and exclude the product itself, and the cart holds the added
//!   product. All of them are read from one response, so concurrent writers cannot break them.

use crate::common::*;
use workflow_harness::prelude::*;

use crate::checks::expect_some_each;

workflow! {
    id: "advanced-browsing",
    name: "Advanced Browsing Flow",
    tags: ["shop", "browsing"],
    steps: 16,
    run: advanced_browsing,
}

/// The `data` of `GET path`, a paginated list.
async fn list(cx: &Ctx, path: &str) -> StepResult<Vec<Value>> {
    Ok(cx.get_value(path).await?.data()?.clone())
}

/// `GET /api/products/{id}`, checked to be that product.
async fn fetch_product(cx: &Ctx, id: &str) -> StepResult<Value> {
    let product = cx.get_value(&format!("/api/products/{id}")).await?;
    expect_json!(product, { "id": id })?;
    Ok(product)
}

/// The `field` of each of `items`, e.g. each product's `price`.
fn each_f64(items: &[Value], field: &str) -> StepResult<Vec<f64>> {
    Ok(items
        .iter()
        .map(|p| p.f64_at(field))
        .collect::<Result<_, _>>()?)
}

/// Whether `text` contains `term`, ignoring case.
fn mentions(text: &Value, term: &str) -> bool {
    text.as_str()
        .is_some_and(|t| t.to_lowercase().contains(&term.to_lowercase()))
}

/// The names of a product's variants.
fn variant_names(product: &Value) -> Vec<&str> {
    let variants = product["variants"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    variants.iter().filter_map(|v| v["name"].as_str()).collect()
}

async fn advanced_browsing(cx: &mut Ctx) -> StepResult {
    as_new_user(cx, "customer").await?;

    let products = cx
        .step("Browse All Products", async |cx| {
            let path =
                "/api/products?status=published&limit=20&page=1&sortBy=createdAt&sortOrder=desc";
            let products = list(cx, path).await?;
            ensure!(!products.is_empty(), "no published products");
            let created: Vec<&str> = products
                .iter()
                .map(|p| p.str_at("createdAt"))
                .collect::<Result<_, _>>()?;
            ensure!(
                created.windows(2).all(|w| w[0] >= w[1]),
                "not sorted by createdAt descending: {created:?}"
            );
            Ok(products)
        })
        .await?;

    let product = cx
        .step("View Product with Variants", async |cx| {
            let with_variants = products.iter().find(|p| !variant_names(p).is_empty());
            fetch_product(cx, &with_variants.unwrap_or(&products[0]).id()?).await
        })
        .await?;
    let product_id = product.id()?;
    let product_id = product_id.as_str();
    let selected_variant = variant_names(&product).first().map(|v| v.to_string());

    cx.step("View Similar Products", async |cx| {
        let answer = cx
            .get_value(&format!("/api/products/{product_id}/similar?limit=5"))
            .await?;
        let similar = answer.data()?;
        ensure!(
            similar.len() <= 5,
            "{} similar products for limit 5",
            similar.len()
        );
        ensure!(
            similar.iter().all(|p| p["id"] != product_id),
            "the product is listed as similar to itself"
        );
        expect_some_each(similar, &json!({ "categoryId": product["categoryId"] }))
    })
    .await?;

    let shop_id = cx
        .step("View Seller's Shop", async |cx| {
            let shop_id = product.str_at("shopId")?;
            let shop = cx.get_value(&format!("/api/shops/{shop_id}")).await?;
            expect_json!(shop, { "id": shop_id })?;
            Ok(shop_id.to_owned())
        })
        .await?;

    cx.step("View Seller's Other Products", async |cx| {
        let path = format!("/api/products?shopId={shop_id}&status=published&limit=10");
        expect_some_each(&list(cx, &path).await?, &json!({ "shopId": shop_id }))
    })
    .await?;

    cx.step("Browse All Shops", async |cx| {
        let shops = list(cx, "/api/shops?verified=true&limit=10").await?;
        expect_some_each(&shops, &json!({ "isVerified": true }))
    })
    .await?;

    let category_products = cx
        .step("Browse Products by Category", async |cx| {
            list(
                cx,
                &format!("/api/products?categoryId={ELECTRONICS_ID}&status=published&limit=15"),
            )
            .await
        })
        .await?;

    cx.step("Navigate Breadcrumbs", async |_| {
        let trail = ["Home", "Products", "Electronics"];
        Ok(trail.join(" > "))
    })
    .await?;

    cx.step("Filter Products by Price", async |cx| {
        let products = list(
            cx,
            "/api/products?status=published&minPrice=100&maxPrice=5000&limit=10",
        )
        .await?;
        let prices = each_f64(&products, "price")?;
        let outside: Vec<_> = prices
            .iter()
            .filter(|p| !(100.0..=5000.0).contains(*p))
            .collect();
        ensure!(outside.is_empty(), "prices outside 100–5000: {outside:?}");
        Ok(())
    })
    .await?;

    cx.step("Sort Products by Price (Low to High)", async |cx| {
        let products = list(
            cx,
            "/api/products?status=published&limit=10&sortBy=price&sortOrder=asc",
        )
        .await?;
        let prices = each_f64(&products, "price")?;
        ensure!(
            prices.windows(2).all(|w| w[0] <= w[1]),
            "not sorted by price ascending: {prices:?}"
        );
        Ok(json!({ "lowest": prices.first(), "highest": prices.last() }))
    })
    .await?;

    cx.step("Search Products", async |cx| {
        let term = "test";
        let path = format!("/api/products?search={term}&status=published&limit=10");
        for p in &list(cx, &path).await? {
            p.str_at("name")?;
            let tags = p["tags"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            ensure!(
                ["name", "description", "brand"]
                    .iter()
                    .any(|k| mentions(&p[k], term))
                    || tags.iter().any(|t| mentions(t, term)),
                "search result does not mention {term:?}: {}",
                short(p)
            );
        }
        Ok(())
    })
    .await?;

    let picked = cx
        .step("Select Product from Category", async |cx| {
            let first = category_products
                .first()
                .context("the category listing was empty")?;
            fetch_product(cx, &first.id()?).await
        })
        .await?;
    let picked_id = picked.id()?;
    let picked_id = picked_id.as_str();

    cx.step("Add to Cart from Category Page", async |cx| {
        let variants = variant_names(&picked);
        let variant = match &selected_variant {
            Some(v) if variants.contains(&v.as_str()) => Some(v.as_str()),
            _ => variants.first().copied(),
        };
        let body = json!({ "productId": picked_id, "quantity": 1, "variant": variant });
        let item = cx.post_value("/api/cart", &body).await?;
        item.id()?;
        Ok(expect_json!(item, { "productId": picked_id })?)
    })
    .await?;

    cx.step("View Shopping Cart", async |cx| {
        let cart = cx.get_value("/api/cart").await?;
        find_subset(cart.array_at("items")?, &json!({ "productId": picked_id }))?;
        Ok(())
    })
    .await?;

    cx.step("View Featured Products", async |cx| {
        let products = list(
            cx,
            "/api/products?isFeatured=true&status=published&limit=100",
        )
        .await?;
        expect_some_each(&products, &json!({ "isFeatured": true }))?;
        Ok(products.len())
    })
    .await?;
    Ok(())
}
