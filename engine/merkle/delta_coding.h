// Delta coding of sorted id lists in merkle messages (bucket numbers, key prefixes): both sides
// of the reconciliation protocol encode and decode with these, so the wire stays small.
#pragma once

#include <vector>

namespace replsim::merkle {

// Appends `sorted` (ascending) to a repeated proto field as gaps from the previous value.
template <typename T, typename Field>
void add_deltas(const std::vector<T>& sorted, Field* field) {
  T prev = 0;
  for (T v : sorted) {
    field->Add(v - prev);
    prev = v;
  }
}

// The inverse of add_deltas: the running sums of the field.
template <typename T, typename Field>
std::vector<T> from_deltas(const Field& field) {
  std::vector<T> out;
  out.reserve(field.size());
  T acc = 0;
  for (T d : field) {
    acc += d;
    out.push_back(acc);
  }
  return out;
}

}  // namespace replsim::merkle
