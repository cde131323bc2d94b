"""Built-in name lists for fake but plausible borrowers, regions and institutions (no external data)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Aino", "Alba", "Alex", "Amara", "Anders", "Anna", "Arjun", "Astrid", "Ben", "Carla",
    "Chen", "Clara", "Daniel", "David", "Elena", "Elif", "Emil", "Emma", "Erik", "Eva",
    "Fatima", "Felix", "Freya", "Hana", "Hugo", "Ida", "Ines", "Isak", "Jakob", "Jana",
    "Johan", "Julia", "Karin", "Kenji", "Lars", "Laura", "Leila", "Lena", "Leo", "Liam",
    "Lina", "Lucas", "Maja", "Marco", "Maria", "Marta", "Mateo", "Mia", "Mikael", "Nadia",
    "Nils", "Noah", "Nora", "Olivia", "Omar", "Oskar", "Paula", "Petra", "Priya", "Rafael",
    "Rosa", "Sara", "Sofia", "Stefan", "Tomas", "Valentina", "Viktor", "Yusuf", "Zara", "Zoe",
)

LAST_NAMES: tuple[str, ...] = (
    "Andersen", "Berg", "Bianchi", "Brandt", "Costa", "Dahl", "Eriksen", "Falk", "Fischer", "Garcia",
    "Hansen", "Haugen", "Holm", "Ivanova", "Jensen", "Johansson", "Kaya", "Keller", "Koch", "Kowalski",
    "Lahti", "Larsen", "Lindqvist", "Lund", "Martin", "Meyer", "Moreau", "Nakamura", "Nielsen", "Novak",
    "Nyberg", "Olsen", "Patel", "Pereira", "Petersen", "Rossi", "Ruiz", "Sandberg", "Santos", "Schmidt",
    "Silva", "Strand", "Svensson", "Tanaka", "Virtanen", "Vogel", "Wagner", "Weber", "Wong", "Yilmaz",
)

COMPANY_SUFFIXES: tuple[str, ...] = (
    "Trading Ltd", "& Sons", "Logistics", "Bakery", "Construction", "Consulting", "Dental Clinic",
    "Engineering", "Farms", "Holding", "Motors", "Print & Design", "Restaurants", "Retail Group", "Timber",
)

# Region of residence or registration, with the share of the book living there.
REGIONS: tuple[tuple[str, float], ...] = (
    ("Capital", 0.26),
    ("North", 0.09),
    ("North-East", 0.08),
    ("East", 0.13),
    ("South-East", 0.12),
    ("South", 0.14),
    ("West", 0.12),
    ("Islands", 0.06),
)

# Institutions of the group, with their share of new relationships.
INSTITUTIONS: tuple[tuple[str, float], ...] = (("INST_A", 0.5), ("INST_B", 0.3), ("INST_C", 0.2))
