// The API's schema as the server describes it (an introspection query), with the look-ups
// the documentation explorer and the field completion share.
import { post } from "../lib/graphql.js";

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
const INPUT_VALUE = `name description defaultValue type { ${TYPE_REF} }`;

const INTROSPECTION = `query ConsoleIntrospection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { ${INPUT_VALUE} }
        type { ${TYPE_REF} }
      }
      inputFields { ${INPUT_VALUE} }
      interfaces { name }
      possibleTypes { name }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
    }
  }
}`;

class Schema {
  constructor(introspection) {
    const { __schema: schema } = introspection;
    this.roots = {
      query: schema.queryType?.name,
      mutation: schema.mutationType?.name,
      subscription: schema.subscriptionType?.name,
    };
    this.types = new Map(schema.types.map((type) => [type.name, type]));
  }

  type(name) {
    return this.types.get(name) ?? null;
  }

  /** The types people write about, without the introspection system's own. */
  namedTypes() {
    return [...this.types.values()].filter((type) => !type.name.startsWith("__"));
  }

  field(typeName, fieldName) {
    return this.type(typeName)?.fields?.find((field) => field.name === fieldName) ?? null;
  }

  /** The type a field of `typeName` returns, lists and non-null taken off: "Serial". */
  fieldTypeName(typeName, fieldName) {
    const field = this.field(typeName, fieldName);
    return field ? namedType(field.type) : null;
  }

  /** Types that implement an interface, or the members of a union. */
  implementations(name) {
    return this.namedTypes().filter((type) => type.interfaces?.some((i) => i.name === name));
  }
}

/** Take the list and non-null wrappers off a type reference. */
export function namedType(ref) {
  let type = ref;
  while (type.ofType) type = type.ofType;
  return type.name;
}

/** A type reference as it is written: [Serial!]! */
export function typeLabel(ref) {
  if (ref.kind === "NON_NULL") return `${typeLabel(ref.ofType)}!`;
  if (ref.kind === "LIST") return `[${typeLabel(ref.ofType)}]`;
  return ref.name;
}

export async function loadSchema(headers = {}) {
  const { json } = await post({ query: INTROSPECTION, operationName: "ConsoleIntrospection" }, headers);
  if (json.errors?.some((e) => e.extensions?.code === "INTROSPECTION_DISABLED")) {
    throw new Error("this server does not describe its schema (production mode), so there are " +
      "no docs or completion here; operations still run");
  }
  if (json.errors?.length) throw new Error(json.errors.map((e) => e.message).join("; "));
  return new Schema(json.data);
}
