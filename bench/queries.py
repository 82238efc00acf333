"""The operations the harness measures, as a dashboard would send them."""

# Q-map: the data map, the first 1,000 subcontractors with their contracts, entrustments,
# purposes and items (bench/raw.py answers the identical `data` from hand-written SQL).
Q_MAP = """
query QMap($first: Int = 1000) {
  subcontractors(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id name country corporateNumber version
        contracts {
          id reference status signedOn effectiveFrom expiresOn clauses version
          entrustments {
            id description
            purposes { id code title }
            dataItems { id code name sensitivity }
          }
        }
      }
    }
  }
}
"""

# Q-small: one subcontractor by id with its contracts, as a dashboard's detail panel asks it
# (about 500 bytes of JSON): the fixed cost of a request dominates (bench/raw.py answers it too).
Q_SMALL = """
query QSmall($id: ID!) {
  subcontractor(id: $id) {
    id name country corporateNumber version
    contracts { id reference status signedOn effectiveFrom expiresOn clauses version }
  }
}
"""

# Q-handlings: who handles one customer's data today.
Q_HANDLINGS = """
query QHandlings($id: ID!) {
  customer(id: $id) {
    externalRef status
    handlings {
      party { name country }
      role excluded exclusionReasons
      purposes { code } dataItems { code }
      contract { reference status }
      chain { name }
    }
  }
}
"""

# Q-entities (issue 15): a supergraph's gateway asking the pi-gateway subgraph (`serve
# --federation`) who handles each of a page of customers it already serves, by the key a member
# system knows them by; the same selection as Q-handlings, for REPRESENTATIONS customers at once.
REPRESENTATIONS = 100
Q_ENTITIES = """
query QEntities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Customer {
      externalRef status
      handlings {
        party { name country }
        role excluded exclusionReasons
        purposes { code } dataItems { code }
        contract { reference status }
        chain { name }
      }
    }
  }
}
"""

# A vendor manager's edit, with its audit event: the name changes, the version moves on.
M_UPDATE_SUBCONTRACTOR = """
mutation UpdateSubcontractor($input: UpdateSubcontractorInput!) {
  updateSubcontractor(input: $input) {
    subcontractor { id version }
    errors { code field message }
  }
}
"""
