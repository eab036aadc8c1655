import { createRouter } from "../../context.js";
import { allPets, changePet, createPet, onePet, petIntake, removePet } from "./pets.handlers.js";
import { deletePet, getPet, getPetIntake, listPets, patchPet, postPet } from "./pets.routes.js";

export const petsRouter = createRouter()
  .openapi(listPets, allPets)
  .openapi(postPet, createPet)
  .openapi(getPet, onePet)
  .openapi(patchPet, changePet)
  .openapi(deletePet, removePet)
  .openapi(getPetIntake, petIntake);
