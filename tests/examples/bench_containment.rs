//! Containment benchmark on the local emulator: wall time and AWS calls per instance, one at a
//! time and 20 at once, through the member handler's engine with the deployed configuration.
//!
//! `scripts/bench containment` runs it (it needs the emulator and deploys a fresh example
//! org first). Figures depend on the emulator's latency, not AWS's: they show the number of
//! round trips and how the engine behaves under concurrency (group creation races included).

#[path = "../tests/e2e/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::incident::{
    Estate, REGION, as_member, deployed_org, interfaces_of, isolation_groups, member_config,
};
use irf_runtime::containment::{Containment, Target};

struct Sample {
    wall: Duration,
    calls: usize,
}

async fn contain_one(
    endpoint: &str,
    account: &str,
    settings: &irf_runtime::containment::Settings,
    instance: &str,
) -> Sample {
    let aws = as_member(endpoint, account).await;
    let conf = aws.here(REGION);
    let engine = Containment::new(
        aws.ec2(&conf),
        aws.iam(&conf),
        aws.ssm(&conf),
        settings.clone(),
        Target {
            account: account.to_owned(),
            region: REGION.to_owned(),
            instance_id: instance.to_owned(),
        },
        "aws",
    );
    let started = Instant::now();
    engine.contain().await.expect("contained");
    Sample {
        wall: started.elapsed(),
        calls: aws.calls.get(),
    }
}

fn summary(name: &str, samples: &[Sample]) {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    let median = walls[walls.len() / 2];
    let max = walls[walls.len() - 1];
    let calls: Vec<usize> = samples.iter().map(|s| s.calls).collect();
    println!(
        "{name:<44} n={:<3} median {:>7.1} ms  max {:>7.1} ms  calls/instance {}..{}",
        samples.len(),
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        calls.iter().min().unwrap(),
        calls.iter().max().unwrap()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let Some(org) = deployed_org().await else {
        eprintln!("no emulator: run through `scripts/bench containment`");
        std::process::exit(2);
    };
    let (endpoint, account) = (org.endpoint.clone(), org.acct.payments.clone());
    let settings = member_config(&endpoint, &account, &org.acct.prefix)
        .await
        .settings;
    let conf = common::account(&endpoint, &account, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let samples = 10;

    // One at a time.
    let estate = Estate::create(&conf, "bench").await;
    let first = estate.launch(1).await;
    let s = contain_one(&endpoint, &account, &settings, &first.instance_id).await;
    summary("first in a VPC (creates the groups), 1 ENI", &[s]);
    for enis in [1, 2] {
        let mut out = Vec::new();
        for _ in 0..samples {
            let suspect = estate.launch(enis).await;
            out.push(contain_one(&endpoint, &account, &settings, &suspect.instance_id).await);
        }
        summary(&format!("sequential, {enis} ENI"), &out);
    }
    let again = contain_one(&endpoint, &account, &settings, &first.instance_id).await;
    summary("already contained (retry), 1 ENI", &[again]);

    // Twenty at once, in a fresh VPC (the isolation groups do not exist yet).
    let crowd = Estate::create(&conf, "crowd").await;
    let mut suspects = Vec::new();
    for _ in 0..20 {
        suspects.push(crowd.launch(2).await);
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for s in &suspects {
        let (endpoint, account, settings, id) = (
            endpoint.clone(),
            account.clone(),
            settings.clone(),
            s.instance_id.clone(),
        );
        set.spawn(async move { contain_one(&endpoint, &account, &settings, &id).await });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("task"));
    }
    let total = started.elapsed();
    summary("20 concurrent, 2 ENI, fresh VPC", &out);
    println!(
        "{:<44} {:>7.1} ms for all 20",
        "20 concurrent: wall time",
        total.as_secs_f64() * 1e3
    );
    let groups = isolation_groups(&ec2, &crowd.vpc_id).await;
    let isolate = groups
        .iter()
        .find(|g| g.group_name() == Some(irf_core::contract::ISOLATION_SECURITY_GROUP))
        .and_then(|g| g.group_id())
        .expect("isolation group")
        .to_owned();
    let mut isolated = 0;
    for s in &suspects {
        if interfaces_of(&ec2, &s.instance_id)
            .await
            .values()
            .all(|g| *g == [isolate.clone()])
        {
            isolated += 1;
        }
    }
    println!(
        "20 concurrent: {isolated}/20 isolated on every interface; {} framework groups in the VPC",
        groups.len()
    );
    assert_eq!(isolated, 20);
    assert_eq!(groups.len(), 2, "no duplicate isolation groups");
}
