/**
 * Seeded names and places for document prompts. Left alone, generators reuse the same few names
 * across thousands of documents (one practitioner found a single name 439k times); suggesting a
 * different, seeded handful per document spreads them, and the seed makes it reproducible.
 */
import { seededRandom } from "../../core/random.js";

const GIVEN =
  `Amara Bongani Chiara Dmitri Esra Farhan Greta Hiroshi Ifeoma Joaquín Kalani Leilani Mateus
Nadia Oskar Priya Quentin Rafaela Soren Tamar Ugo Valentina Wanjiru Xiomara Yusuf Zofia Anouk Bashir
Camille Darius Elif Florin Gabriela Hamza Ingrid Jasper Keiko Lorenzo Marisol Nikolai Olamide Paulo
Rania Sebastián Thandiwe Ulla Vikram Wen Yara Zane Aurelio Beatriz Cyrus Dagny Emeka Fumiko Goran
Hana Idris Juniper Kofi Ludmila Mehmet Noor Otieno Pilar Rustam Saanvi Teodor Uzma Vesna Wolfgang
Ximena Yannick Zainab Alejandro Birgit Chidi Dolores Eamon Fatima Gustavo Helga Ismail Jovana`
    .split(/\s+/)
    .filter(Boolean);

const FAMILY =
  `Abiodun Bergström Castellanos Dubois Eriksen Fonseca Gutiérrez Halvorsen Iwasaki Jankowski
Kariuki Lindqvist Moreau Nakamura Okonkwo Petrović Quispe Rahimi Sandoval Tanaka Ulrich Varga Wójcik
Xu Yilmaz Zapata Achebe Brandt Chatterjee Delacroix Esposito Figueroa Grünewald Hosseini Ivanova
Jaramillo Kowalczyk Lungu Mendoza Nwosu Ortega Papadopoulos Reyes Sato Toivonen Urquhart Vasquez
Whitfield Yamamoto Zhou Adeyemi Bianchi Cardoso Dimitrov Ekström Farouk Gallagher Haddad Ishikawa`
    .split(/\s+/)
    .filter(Boolean);

const PLACES =
  `Porto, Tartu, Kumasi, Valparaíso, Trondheim, Oaxaca, Gdańsk, Kochi, Ljubljana, Mombasa,
Halifax, Cebu, Tbilisi, Rosario, Aarhus, Da Nang, Arequipa, Plovdiv, Dunedin, Izmir, Windhoek, Tromsø,
Cuenca, Brno, Sapporo, Zanzibar, Bergen, Antofagasta, Kraków, Pune, Galway, Tamale, Bologna,
Chiang Mai, Quito, Rotterdam, Daegu, Asunción, Ghent, Surabaya, Montevideo, Tampere, Marrakesh,
Winnipeg, Kaunas, Hobart, Nagpur, Lyon, Medellín, Vilnius, Santander, Cluj-Napoca, Durban, Busan,
Graz, Salta, Hanoi, Lübeck, Recife, Bristol`
    .split(",")
    .map((p) => p.trim());

function pick<T>(list: T[], n: number, rand: () => number): T[] {
  const pool = [...list];
  const out: T[] = [];
  for (let i = 0; i < n && pool.length; i++) {
    const j = Math.floor(rand() * pool.length);
    out.push(pool.splice(j, 1)[0] as T);
  }
  return out;
}

export interface DiversitySeeds {
  names: string[];
  places: string[];
}

export function diversitySeeds(
  seed: number,
  options: { names: boolean; places: boolean },
): DiversitySeeds {
  const rand = seededRandom(seed);
  const given = options.names ? pick(GIVEN, 3, rand) : [];
  const family = options.names ? pick(FAMILY, 3, rand) : [];
  return {
    names: given.map((g, i) => `${g} ${family[i]}`),
    places: options.places ? pick(PLACES, 2, rand) : [],
  };
}

export function diversityText(s: DiversitySeeds): string {
  const parts: string[] = [];
  if (s.names.length) parts.push(`names such as ${s.names.join(", ")}`);
  if (s.places.length) parts.push(`places such as ${s.places.join(" or ")}`);
  if (!parts.length) return "";
  return `\n- If the document needs people or places, prefer ${parts.join(", and ")} over the first names that come to mind (others are fine where these do not fit).`;
}
