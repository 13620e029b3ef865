//! The `gust` command.

fn main() {
    println!("gust {}", env!("CARGO_PKG_VERSION"));
    println!("Run the example DAG with: cargo run --example bash_xcom");
}
