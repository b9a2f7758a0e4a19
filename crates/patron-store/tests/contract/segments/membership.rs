//! Membership queries against the domain's predicates, for every operator.

use super::*;

const TEXT_OPERATORS: [&str; 10] = [
    "eq", "ne", "cnt", "nct", "is", "nis", "sw", "ew", "in", "nin",
];
const NUMBER_OPERATORS: [&str; 9] = ["eq", "ne", "gt", "lt", "gte", "lte", "btw", "in", "nin"];
const BOOLEAN_OPERATORS: [&str; 4] = ["eq", "ne", "is", "nis"];
const NUMBERS: [f64; 10] = [-2.0, -1.0, 0.0, 0.1, 0.5, 1.0, 2.0, 2.5, 3.0, 1e12];

/// Random values and operands for one definition, from small pools so that values collide
/// with operands and include empty text, empty lists, `%`, `_` and non-ASCII letters.
struct Draw<'a>(&'a AttributeDefinition);

impl Draw<'_> {
    fn type_name(&self) -> &'static str {
        self.0.spec.attribute_type.as_str()
    }

    fn operators(&self) -> &'static [&'static str] {
        match self.0.spec.attribute_type.kind() {
            ValueKind::Text => &TEXT_OPERATORS,
            ValueKind::Boolean => &BOOLEAN_OPERATORS,
            _ => &NUMBER_OPERATORS,
        }
    }

    fn text(rng: &mut StdRng, pool: &[&str], max_len: usize) -> String {
        let len = rng.gen_range(0..=max_len);
        (0..len).map(|_| *pool.choose(rng).unwrap()).collect()
    }

    fn number(rng: &mut StdRng) -> Value {
        json!(NUMBERS.choose(rng).unwrap())
    }

    fn date(rng: &mut StdRng) -> String {
        let day = rng.gen_range(1..=9);
        match rng.gen_range(0..3) {
            0 => format!("2024-01-0{day}T{:02}:30:00Z", rng.gen_range(0..24)),
            1 => format!("2024-01-0{day}T03:00:00+05:30"),
            _ => format!("2024-01-0{day}"),
        }
    }

    fn list(rng: &mut StdRng, item: impl Fn(&mut StdRng) -> Value) -> Value {
        let len = rng.gen_range(0..=3);
        Value::Array((0..len).map(|_| item(rng)).collect())
    }

    /// A stored value.
    fn value(&self, rng: &mut StdRng) -> Value {
        match self.type_name() {
            "number" => Self::number(rng),
            "string" => json!(Self::text(rng, &["a", "b", "%", "_", "é", "A"], 3)),
            "date" => json!(Self::date(rng)),
            "boolean" => json!(rng.gen_bool(0.5)),
            "number_array" => Self::list(rng, Self::number),
            "string_array" => Self::list(rng, |rng| {
                json!(["vip", "new", "old", "v", "VIP", ""].choose(rng).unwrap())
            }),
            other => panic!("no values drawn for {other}"),
        }
    }

    /// A single operand, or one item of a list operand.
    fn scalar(&self, rng: &mut StdRng) -> Value {
        match self.type_name() {
            "number" | "number_array" => match rng.gen_range(0..5) {
                0 => json!("2"),
                1 => json!(1.5),
                _ => Self::number(rng),
            },
            "string" => json!(Self::text(rng, &["a", "b", "%", "_", "é"], 2)),
            "date" => json!(Self::date(rng)),
            "boolean" => json!([json!(true), json!(false), json!("true"), json!("false")]
                .choose(rng)
                .unwrap()),
            _ => json!(["vip", "new", "old", "v", "i", "ip", "VIP", ""]
                .choose(rng)
                .unwrap()),
        }
    }

    fn operand(&self, rng: &mut StdRng, operator: &str) -> Value {
        match operator {
            "btw" => {
                let position = |operand: &Value| match predicate(self.0, "eq", operand).test {
                    Test::Compare(_, number) => number,
                    other => panic!("{other:?}"),
                };
                let (low, high) = (self.scalar(rng), self.scalar(rng));
                if position(&low) <= position(&high) {
                    json!([low, high])
                } else {
                    json!([high, low])
                }
            }
            "in" | "nin" => {
                let items: Vec<Value> = (0..rng.gen_range(1..=3))
                    .map(|_| self.scalar(rng))
                    .collect();
                let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match texts {
                    // Clients whose models type the value as a string send "a,b".
                    Some(texts) if rng.gen_bool(0.3) => json!(texts.join(",")),
                    _ => Value::Array(items),
                }
            }
            _ => self.scalar(rng),
        }
    }
}

/// Customers with random values, and what the domain computes for them.
struct Population {
    live: Vec<ObjectId>,
    archived: Vec<ObjectId>,
    /// Index entries and the value as written, per (definition, customer).
    values: BTreeMap<(ObjectId, ObjectId), (Vec<IndexEntry>, Value)>,
}

impl Population {
    async fn create(
        f: &Fixture,
        rng: &mut StdRng,
        definitions: &[&AttributeDefinition],
        size: usize,
    ) -> Self {
        let mut population = Population {
            live: Vec::new(),
            archived: Vec::new(),
            values: BTreeMap::new(),
        };
        for position in 0..size {
            let id = customer(f).await;
            for definition in definitions {
                if rng.gen_bool(0.2) {
                    continue;
                }
                let value = Draw(definition).value(rng);
                let stored = set(f, definition, &id, value.clone()).await;
                assert_eq!(stored.stored, value.to_string());
                let index = value_of(definition, value.clone()).index;
                population
                    .values
                    .insert((definition.id.clone(), id.clone()), (index, value));
            }
            if position % 8 == 7 {
                archive(f, &id).await;
                population.archived.push(id);
            } else {
                population.live.push(id);
            }
        }
        population
    }

    fn holds(&self, customer: &ObjectId, tests: &[(&AttributeDefinition, Predicate)]) -> bool {
        tests.iter().all(|(definition, predicate)| {
            let found = self.values.get(&(definition.id.clone(), customer.clone()));
            predicate.matches(found.map_or(&[], |(index, _)| index.as_slice()))
        })
    }

    /// Checks `list_members` and `is_member` for every customer against
    /// `Predicate::matches`; returns how many live customers are members.
    async fn check(&self, f: &Fixture, tests: &[(&AttributeDefinition, &str, Value)]) -> usize {
        let membership = conditions(&unknown_id(), tests);
        let compiled: Vec<(&AttributeDefinition, Predicate)> = tests
            .iter()
            .map(|(definition, operator, operand)| {
                (*definition, predicate(definition, operator, operand))
            })
            .collect();
        let expected: BTreeSet<ObjectId> = self
            .live
            .iter()
            .filter(|c| self.holds(c, &compiled))
            .cloned()
            .collect();
        let described: Vec<String> = tests
            .iter()
            .map(|(d, op, operand)| format!("{} {op} {operand}", d.spec.slug))
            .collect();
        let described = format!("{:?}: {}", f.backend, described.join(" AND "));
        let found = members(f, &membership).await;
        if found != expected {
            let differing: Vec<String> = found
                .symmetric_difference(&expected)
                .map(|customer| {
                    let values: Vec<String> = tests
                        .iter()
                        .map(|(d, _, _)| {
                            let value = self
                                .values
                                .get(&(d.id.clone(), customer.clone()))
                                .map(|(_, value)| value);
                            format!("{}={value:?}", d.spec.slug)
                        })
                        .collect();
                    format!(
                        "  {customer}: sql {}, rust {}; {}",
                        found.contains(customer),
                        expected.contains(customer),
                        values.join(" ")
                    )
                })
                .collect();
            panic!(
                "{described}: list_members disagrees with Predicate::matches:\n{}",
                differing.join("\n")
            );
        }
        for customer in self.live.iter().chain(&self.archived) {
            assert_eq!(
                is_member(f, &membership, customer).await,
                expected.contains(customer),
                "{described}: is_member({customer})"
            );
        }
        expected.len()
    }
}

#[tokio::test]
async fn membership_queries_agree_with_the_domain_predicates() {
    each_backend(|f| async move {
        let mut rng = StdRng::seed_from_u64(20_260_101);
        let mut definitions = Vec::new();
        for (slug, type_name) in [
            ("points", "number"),
            ("tier", "string"),
            ("joined", "date"),
            ("tags", "string_array"),
            ("subscribed", "boolean"),
            ("scores", "number_array"),
        ] {
            definitions.push(define(&f, slug, type_name).await);
        }
        let definitions: Vec<&AttributeDefinition> = definitions.iter().collect();
        let population = Population::create(&f, &mut rng, &definitions, 32).await;
        let live = population.live.len();

        let (mut checks, mut informative) = (0, 0);
        for definition in &definitions {
            let draw = Draw(definition);
            for operator in draw.operators() {
                for _ in 0..4 {
                    let operand = draw.operand(&mut rng, operator);
                    let matched = population
                        .check(&f, &[(definition, operator, operand)])
                        .await;
                    checks += 1;
                    informative += usize::from(matched > 0 && matched < live);
                }
            }
        }
        assert!(
            informative * 2 > checks,
            "only {informative} of {checks} conditions split the customers"
        );

        // Two conditions: both must hold.
        for _ in 0..24 {
            let pair: Vec<&AttributeDefinition> =
                definitions.choose_multiple(&mut rng, 2).copied().collect();
            let tests: Vec<(&AttributeDefinition, &str, Value)> = pair
                .into_iter()
                .map(|definition| {
                    let draw = Draw(definition);
                    let operator = *draw.operators().choose(&mut rng).unwrap();
                    (definition, operator, draw.operand(&mut rng, operator))
                })
                .collect();
            population.check(&f, &tests).await;
        }
    })
    .await;
}
