//! 06 `advanced-browsing` — "Advanced Browsing Flow": public catalogue reads (sorting,
//! filtering, search, shops, categories, similar and featured products) ending with a fresh
//! customer adding a product from the category page to its cart.
//!
//! Decisions:
//! - Fresh customer (`as_new_user`) for the cart; the reads are public.
//! - Steps 3 (View Similar Products) and 15 (View Featured Products) were "soft": optional.
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

workflow! {
    id: "advanced-browsing",
    name: "Advanced Browsing Flow",
    tags: ["shop", "browsing"],
    steps: 15,
    run: advanced_browsing,
}

/// The `data` of `GET path`, a paginated list.
async fn list(cx: &Ctx, path: &str) -> StepResult<Vec<Value>> {
    let page: Value = cx.get_json(path).await?;
    Ok(page.data()?.clone())
}

/// Whether `text` contains `term`, ignoring case.
fn mentions(text: &Value, term: &str) -> bool {
    text.as_str()
        .is_some_and(|t| t.to_lowercase().contains(&term.to_lowercase()))
}

async fn advanced_browsing(cx: &mut Ctx) -> StepResult {
    as_new_user(cx, "customer").await?;

    let products: Vec<Value> = cx
        .step("Browse All Products", async |cx| {
            let products = list(
                cx,
                "/api/products?status=published&limit=20&page=1&sortBy=createdAt&sortOrder=desc",
            )
            .await?;
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

    let product: Value = cx
        .step("View Product with Variants", async |cx| {
            let chosen = products
                .iter()
                .find(|p| p["variants"].as_array().is_some_and(|v| !v.is_empty()))
                .unwrap_or(&products[0]);
            let id = chosen.id()?;
            let product: Value = cx.get_json(&format!("/api/products/{id}")).await?;
            ensure!(
                product["id"] == id.as_str(),
                "fetched another product: {}",
                short(&product)
            );
            Ok(product)
        })
        .await?;
    let product_id = product.id()?;
    let product_id = product_id.as_str();
    let selected_variant: Option<String> = product["variants"]
        .as_array()
        .and_then(|v| v.first())
        .and_then(|v| v["name"].as_str())
        .map(str::to_owned);

    cx.optional_step("View Similar Products", async |cx| {
        let answer: Value = cx
            .get_json(&format!("/api/products/{product_id}/similar?limit=5"))
            .await?;
        let similar = answer.data()?;
        ensure!(
            similar.len() <= 5,
            "{} similar products for limit 5",
            similar.len()
        );
        for p in similar {
            ensure!(
                p["id"] != product_id,
                "the product is listed as similar to itself"
            );
            ensure!(
                p["categoryId"] == product["categoryId"],
                "a similar product of another category: {}",
                short(p)
            );
        }
        Ok(())
    })
    .await;

    let shop_id = cx
        .step("View Seller's Shop", async |cx| {
            let shop_id = product.str_at("shopId")?;
            let shop: Value = cx.get_json(&format!("/api/shops/{shop_id}")).await?;
            ensure!(
                shop["id"] == shop_id,
                "fetched another shop: {}",
                short(&shop)
            );
            Ok(shop_id.to_owned())
        })
        .await?;

    cx.step("View Seller's Other Products", async |cx| {
        let products = list(
            cx,
            &format!("/api/products?shopId={shop_id}&status=published&limit=10"),
        )
        .await?;
        for p in &products {
            ensure!(
                p["shopId"] == shop_id.as_str(),
                "a product of another shop: {}",
                short(p)
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Browse All Shops", async |cx| {
        for shop in list(cx, "/api/shops?verified=true&limit=10").await? {
            ensure!(
                shop["isVerified"] == true,
                "an unverified shop: {}",
                short(&shop)
            );
        }
        Ok(())
    })
    .await?;

    let category_products: Vec<Value> = cx
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
        for p in &products {
            let price = p.f64_at("price")?;
            ensure!(
                (100.0..=5000.0).contains(&price),
                "price {price} is outside 100–5000: {}",
                short(p)
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Sort Products by Price (Low to High)", async |cx| {
        let products = list(
            cx,
            "/api/products?status=published&limit=10&sortBy=price&sortOrder=asc",
        )
        .await?;
        let prices: Vec<f64> = products
            .iter()
            .map(|p| p.f64_at("price"))
            .collect::<Result<_, _>>()?;
        ensure!(
            prices.windows(2).all(|w| w[0] <= w[1]),
            "not sorted by price ascending: {prices:?}"
        );
        Ok(json!({ "lowest": prices.first(), "highest": prices.last() }))
    })
    .await?;

    cx.step("Search Products", async |cx| {
        let term = "test";
        let products = list(
            cx,
            &format!("/api/products?search={term}&status=published&limit=10"),
        )
        .await?;
        for p in &products {
            p.str_at("name")?;
            let tags = p["tags"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            ensure!(
                mentions(&p["name"], term)
                    || mentions(&p["description"], term)
                    || mentions(&p["brand"], term)
                    || tags.iter().any(|t| mentions(t, term)),
                "search result does not mention {term:?}: {}",
                short(p)
            );
        }
        Ok(())
    })
    .await?;

    let picked: Value = cx
        .step("Select Product from Category", async |cx| {
            let first = category_products
                .first()
                .context("the category listing was empty")?;
            let id = first.id()?;
            let product: Value = cx.get_json(&format!("/api/products/{id}")).await?;
            ensure!(
                product["id"] == id.as_str(),
                "fetched another product: {}",
                short(&product)
            );
            Ok(product)
        })
        .await?;
    let picked_id = picked.id()?;
    let picked_id = picked_id.as_str();

    cx.step("Add to Cart from Category Page", async |cx| {
        let variants: Vec<&str> = picked["variants"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x["name"].as_str()).collect())
            .unwrap_or_default();
        let variant = match &selected_variant {
            Some(v) if variants.contains(&v.as_str()) => Some(v.as_str()),
            _ => variants.first().copied(),
        };
        let item: Value = cx
            .post_json(
                "/api/cart",
                &json!({ "productId": picked_id, "quantity": 1, "variant": variant }),
            )
            .await?;
        item.id()?;
        ensure!(
            item["productId"] == picked_id,
            "added another product: {}",
            short(&item)
        );
        Ok(())
    })
    .await?;

    cx.step("View Shopping Cart", async |cx| {
        let cart: Value = cx.get_json("/api/cart").await?;
        let items = cart.array_at("items")?;
        ensure!(
            items.iter().any(|i| i["productId"] == picked_id),
            "product {picked_id} is not in the cart: {}",
            short(&cart)
        );
        Ok(())
    })
    .await?;

    cx.optional_step("View Featured Products", async |cx| {
        let products = list(
            cx,
            "/api/products?isFeatured=true&status=published&limit=100",
        )
        .await?;
        for p in &products {
            ensure!(
                p["isFeatured"] == true,
                "a non-featured product: {}",
                short(p)
            );
        }
        Ok(products.len())
    })
    .await;
    Ok(())
}
